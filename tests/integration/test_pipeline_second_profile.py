"""The whole asset graph on the second country profile's small generated sample: the same code,
another country's sources, identifiers, currency, governorates and indicator catalogue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sample_refresh import append_rows, con, first_row, refreshed_sample, run_dbt_unit_tests  # noqa: F401  (con is a fixture)

pytestmark = pytest.mark.integration

PROFILE = "iraq"
PERSONS = 2500
SEED = 7
ORPHAN_HOUSEHOLD = "SPN-NOT-REGISTERED-1"


def _add_orphan_payment(inbox: Path) -> None:
    """One cash payment naming a household no file holds, appended to the programme's payments."""
    payments = next((inbox / "molsa_spn").glob("spn_payments_*.csv"))
    append_rows(payments, [{**first_row(payments), "PAYMENT_ID": "SPNP-ORPHAN-1", "SPN_HH_ID": ORPHAN_HOUSEHOLD}])


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """Generate the profile's sample (one orphan payment added), run one full refresh with
    SIJIL_PROFILE set to it."""
    with refreshed_sample(tmp_path_factory.mktemp("sijil_home_second_profile"), PROFILE, PERSONS, SEED,
                          edit_inbox=_add_orphan_payment) as done:
        yield done


def test_refresh_succeeds_and_publishes(refreshed):
    result, _ = refreshed
    assert result.success and result.published, f"failed steps: {result.failed}"
    for layer in ("raw", "staging", "intermediate", "linkage", "core"):
        assert result.rows_by_layer.get(layer, 0) > 0, layer
    assert result.checks_failed == []


def test_dbt_unit_tests_of_the_profile_pass(refreshed, tmp_path):
    """The unit tests of the models this profile builds pass against its refreshed warehouse."""
    result, _ = refreshed
    expected, statuses = run_dbt_unit_tests(result.warehouse, PROFILE, tmp_path)
    assert expected and set(statuses) == expected
    assert {i: s for i, s in statuses.items() if s != "pass"} == {}


def test_every_row_of_every_source_is_loaded_or_quarantined(con):
    from assets.profiles import load_profile

    rows = con.execute("select source, sum(rows_received), sum(rows_loaded), sum(rows_quarantined), sum(rows_lost) "
                       "from audit.ingestion_ledger group by source").fetchall()
    assert {r[0] for r in rows} == {c.source for c in load_profile(PROFILE).sources}
    for source, received, loaded, quarantined, lost in rows:
        assert received > 0 and lost == 0 and received == loaded + quarantined, source


def test_payments_reconcile_with_the_files_in_the_profiles_currency(con):
    ledger = dict(con.execute("select source, sum(control_total_loaded) from audit.ingestion_ledger "
                              "where control_total_loaded is not null group by source").fetchall())
    facts = dict(con.execute("select source, sum(amount) from core.fct_payment group by source").fetchall())
    assert set(facts) == set(ledger) == {"molsa_spn"}
    assert float(facts["molsa_spn"]) == pytest.approx(float(ledger["molsa_spn"]), abs=0.01)
    # amounts are dinars: a monthly transfer is tens of thousands, not tens
    assert con.execute("select min(amount) from core.fct_payment").fetchall()[0][0] >= 1000


def test_payments_naming_a_household_the_registry_lacks_are_listed(con):
    """The orphan-payment listing comes from the profile's feeds, not from source names: here it
    lists exactly the cash programme's payments whose household is not in its household file,
    with the reason, file and line, computed independently from the staging and quarantine tables."""
    listed = con.execute("select payment_id, household_source, household_ref, reason, _source_file, _line_number "
                         "from quarantine.orphan_payments").fetchall()
    expected = con.execute("""
        select p.payment_id, 'molsa_spn', 'spn:' || p.household_id,
               case when exists (select 1 from quarantine.molsa_spn__households q where q.household_id = p.household_id)
                    then 'household_quarantined' else 'household_not_in_registry' end,
               p._source_file, p._line_number
        from staging.stg_molsa_spn__payments p
        where p.household_id is not null
          and not exists (select 1 from staging.stg_molsa_spn__households h where h.household_id = p.household_id)
    """).fetchall()
    assert sorted(listed) == sorted(expected)
    orphan = [r for r in listed if r[0] == "SPNP-ORPHAN-1"]
    assert [r[1:4] for r in orphan] == [("molsa_spn", f"spn:{ORPHAN_HOUSEHOLD}", "household_not_in_registry")]
    assert orphan[0][4].startswith("molsa_spn/spn_payments_") and orphan[0][5] > 1


def test_linkage_quality_against_truth(con):
    scores = dict(con.execute("select subset, f1 from linkage.evaluation").fetchall())
    precision = con.execute("select precision from linkage.evaluation where subset = 'overall'").fetchall()[0][0]
    assert scores["overall"] > 0.93 and precision > 0.97, scores


def test_displaced_persons_live_where_they_were_registered_not_where_they_came_from(refreshed, con):
    _, settings = refreshed
    households = pd.read_parquet(Path(settings.truth) / "households.parquet")
    staged = con.execute("select count(*), count(governorate_code), count(origin_governorate_code), "
                         "count(*) filter (where governorate_code = origin_governorate_code) "
                         "from staging.stg_idp_registry__individuals").fetchall()[0]
    total, resolved, origin_resolved, same = staged
    assert total > 0 and households.is_displaced.any()
    # Kurdish and Arabic spellings of a governorate resolve to its code (bar deliberately broken rows)
    assert resolved >= total - 2 and origin_resolved == total
    assert same == 0


def test_a_ration_card_family_is_not_always_the_household_paid(con):
    """Persons on one ration card can belong to different master households."""
    split = con.execute(
        "select count(*) from (select m.household_ref, count(distinct p.household_key) as households "
        "from intermediate.int_household_memberships m join linkage.person_clusters c using (mention_id) "
        "join core.dim_person p on p.person_key = c.master_person_id "
        "where m.source = 'pds_ration_card' group by 1 having count(distinct p.household_key) > 1)").fetchall()[0][0]
    assert split > 0


def test_cash_for_the_same_need_from_two_programmes_is_a_duplicate_benefit(con):
    cases = con.execute("select count(*), sum(amount_at_stake) from core.fct_duplicate_benefit "
                        "where case_type = 'paid_by_overlapping_programmes' and exclusivity_group = 'poverty_cash'").fetchall()[0]
    assert cases[0] > 0 and cases[1] > 0


def test_every_catalogue_indicator_has_values_and_no_published_cell_is_below_k(refreshed, con):
    from assets.profiles import load_profile

    k = int(load_profile(PROFILE).disclosure_k)
    missing = con.execute("select indicator_code from monitoring.indicator_catalogue k where not exists "
                          "(select 1 from monitoring.indicator_cells c where c.indicator_code = k.indicator_code "
                          "and c.value is not null)").fetchall()
    assert missing == []
    pillars = {p for (p,) in con.execute("select distinct pillar from monitoring.indicator_catalogue").fetchall()}
    assert pillars == {"safety_nets", "social_insurance", "labour_market", "social_care", "cross"}
    shown = con.execute("select count(*) from monitoring.indicator_values where not is_suppressed").fetchall()[0][0]
    small = con.execute(
        "select count(*) from monitoring.indicator_values v join monitoring.indicator_catalogue k using (indicator_code) "
        "where not v.is_suppressed and ((k.kind = 'count' and v.numerator between 1 and $k - 1) or (k.kind = 'share' and "
        "(v.numerator between 1 and $k - 1 or v.denominator < $k or v.denominator - v.numerator between 1 and $k - 1)))",
        {"k": k}).fetchall()[0][0]
    assert shown > 0 and small == 0
    _, settings = refreshed
    report = (settings.home / "reports" / "indicators.html").read_text(encoding="utf-8")
    assert "شبكات الأمان الاجتماعي" in report and "Social safety nets" in report and "dir=\"rtl\"" in report
