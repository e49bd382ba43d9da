{{ config(schema='quarantine', materialized='table', enabled=sj_source_active('naf_takaful') and sj_source_active('emergency_cash')) }}

{#- Reliability #11: payments naming a household the registry does not hold. They stay in
    core.fct_payment under the 'unknown' household (so money still reconciles with the files)
    and are listed here, each with its reason, file and line:
    - household_quarantined: the agency sent the household, but its row was quarantined at
      ingestion (already reported, with its own reason, in quarantine.naf_takaful__households);
    - household_not_in_registry: no agency sent that household at all.
    The sj_orphan_share_within test fails the build (and so the publish) when a source's share
    of the second kind passes the profile's orphan_payment_max_share. The quarantine table is
    written by the naf_takaful ingestion step, which staging (and so this model) runs after.
    The model names the sources whose payments point at a cash programme's household id, so it is
    built only for a profile that has them; a profile with other payment sources adds its own. -#}
with households as (
    select household_id from {{ ref('stg_naf_takaful__households') }}
),

cash_programme as (
    select 'naf_takaful' as source, p.payment_id, p.household_id, p.amount, p.period_month,
           'household_id' as household_column, p._source_file, p._line_number, p._load_id
    from {{ ref('stg_naf_takaful__payments') }} p
    where not exists (select 1 from households h where h.household_id = p.household_id)
),

emergency as (
    select 'emergency_cash', e.payment_id, e.naf_household_id, e.amount, date_trunc('month', e.paid_on)::date,
           'naf_household_id', e._source_file, e._line_number, e._load_id
    from {{ ref('stg_emergency_cash__payments') }} e
    where nullif(trim(e.naf_household_id), '') is not null
      and not exists (select 1 from households h where h.household_id = e.naf_household_id)
),

quarantined as (
    select distinct household_id from quarantine.naf_takaful__households where household_id is not null
),

final as (
    select o.*,
           case when q.household_id is not null then 'household_quarantined' else 'household_not_in_registry' end
               as reason,
           o.household_column || case when q.household_id is not null
               then ': the household''s row was quarantined at ingestion'
               else ': no such household in naf_takaful households' end as detail
    from (select * from cash_programme union all select * from emergency) o
    left join quarantined q using (household_id)
)

select * from final
