"""Which writer produces each source: a profile's `synthetic.yaml` lists `writers`, each a
source and a kind, with the kind's parameters. The kinds are the agency writers of
`agencies.py` (one per source of the default profile) and the generic ones of `kinds.py`
(family registry, cash programme, social insurance, displacement registry, household survey)
and the statistics office's population estimates (`reference_population.py`),
so a new country chooses and parameterises writers in configuration.
"""

from __future__ import annotations

from collections.abc import Callable

from assets.synthetic import agencies, kinds, reference_population
from assets.synthetic.sources import SourceBuilder


def _keep_cash(b: SourceBuilder, frame) -> None:
    b.cash = frame


WRITERS: dict[str, Callable[[SourceBuilder, dict], None]] = {
    "civil_registry": lambda b, spec: agencies.civil_registry(b),
    "naf_takaful": lambda b, spec: _keep_cash(b, agencies.naf_takaful(b)),
    "mosd_services": lambda b, spec: agencies.mosd_services(b),
    "ssc_insured": lambda b, spec: agencies.ssc_insured(b),
    "labour_programmes": lambda b, spec: agencies.labour_programmes(b),
    "health_insurance": lambda b, spec: agencies.health_insurance(b, b.require_cash(spec)),
    "school_enrolment": lambda b, spec: agencies.school_enrolment(b),
    "unhcr_refugees": lambda b, spec: agencies.unhcr_refugees(b),
    "zakat_charity": lambda b, spec: agencies.zakat_charity(b, b.require_cash(spec)),
    "emergency_cash": lambda b, spec: agencies.emergency_cash(b, b.require_cash(spec)),
    "grievances": lambda b, spec: agencies.grievances(b, b.require_cash(spec)),
    "welfare_survey": lambda b, spec: agencies.welfare_survey(b),
    "family_registry": kinds.family_registry,
    "cash_programme": lambda b, spec: _keep_cash(b, kinds.cash_programme(b, spec)),
    "social_insurance": kinds.social_insurance,
    "displacement_registry": kinds.displacement_registry,
    "household_survey": kinds.household_survey,
    "population_estimates": reference_population.population_estimates,
}


def run_writers(b: SourceBuilder, specs: list[dict]) -> None:
    """Run the profile's writers in the order listed (a writer may use the cash programme an
    earlier one built)."""
    if not specs:
        raise ValueError("synthetic.yaml lists no writers")
    for spec in specs:
        kind = spec.get("kind")
        if kind not in WRITERS:
            raise ValueError(f"synthetic.yaml: writer for {spec.get('source')!r} has unknown kind {kind!r} "
                             f"(known: {', '.join(sorted(WRITERS))})")
        WRITERS[kind](b, spec)
