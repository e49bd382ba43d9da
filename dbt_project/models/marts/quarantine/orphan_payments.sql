{{ config(schema='quarantine', materialized='table') }}

{#- Reliability #11: payments naming a household the registry does not hold. They stay in
    core.fct_payment under the 'unknown' household (so money still reconciles with the files)
    and are listed here, each with its reason, file and line:
    - household_quarantined: the agency sent the household, but its row was quarantined at
      ingestion (already reported, with its own reason, in its quarantine table);
    - household_not_in_registry: no agency sent that household at all.
    The sj_orphan_share_within test fails the build (and so the publish) when a source's share
    of the second kind passes the profile's orphan_payment_max_share.
    Configuration, not source names: the payments are the profile's `feeds.payments` that name a
    household (household_source, household_ref), checked against the households of the same
    household_source in its `feeds.programme_households`; the quarantined ones are those feeds'
    household_ref expressions read over their entities' quarantine tables (written by the
    ingestion steps, which staging, and so this model, runs after; a quarantine table keeps the
    contract's column names). Payments naming a household source with no household list in the
    profile are not checked here. -#}
{#- The household lists whose source is named (a feed's `household_source` key); a feed that maps
    no household_ref reads the staging column of that name, as sj_feed_union does. -#}
{%- set household_feeds = sj_feeds('programme_households') | selectattr('household_source', 'defined') | list %}

with payments as (
    select * from {{ ref('int_payments') }}
    where household_ref is not null
      and household_source in {{ sj_sql_list(household_feeds | map(attribute='household_source') | list) }}
),

households as (
    select distinct household_source, household_ref from {{ ref('int_programme_households') }}
),

quarantined as (
    {%- for feed in household_feeds %}
    select distinct '{{ feed['household_source'] }}' as household_source,
           cast({{ (feed.get('columns') or {}).get('household_ref', 'household_ref') }} as varchar) as household_ref
    from quarantine.{{ feed['model'][4:] }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not household_feeds %}
    select null::varchar as household_source, null::varchar as household_ref where false
    {%- endif %}
),

final as (
    select
        p.source,
        p.source_record_key as payment_id,
        p.household_source,
        p.household_ref,
        p.amount,
        p.period_month,
        p._source_file,
        p._line_number,
        p._load_id,
        case when q.household_ref is not null then 'household_quarantined' else 'household_not_in_registry' end
            as reason,
        case when q.household_ref is not null
             then 'household_ref: the household''s row in ' || p.household_source || ' was quarantined at ingestion'
             else 'household_ref: no such household in ' || p.household_source || ' households' end as detail
    from payments p
    left join quarantined q using (household_source, household_ref)
    where not exists (select 1 from households h
                      where h.household_source = p.household_source and h.household_ref = p.household_ref)
)

select * from final
