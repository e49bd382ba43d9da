{#- Household enrolment in the cash programme, and person enrolments in services, training and
    insurance, one row per source record. -#}
with household_enrolment as (
    select 'naf_takaful' as source, n.household_id as source_record_key, h.master_household_id as household_key,
           null::varchar as person_key, n.programme_code, n.enrolled_on as started_on,
           n.exited_on as ended_on, n.status, n.exit_reason
    from {{ ref('stg_naf_takaful__households') }} n
    left join {{ source('linkage', 'household_links') }} h on h.source = 'naf_takaful' and h.household_ref = 'naf:' || n.household_id
),

person_enrolment as (
    select 'mosd_services' as source, case_id as source_record_key, mention_id, programme_code,
           opened_on as started_on, closed_on as ended_on, outcome as status
    from {{ ref('stg_mosd_services__cases') }}
    union all
    select 'labour_programmes', participant_id, mention_id, programme_code, started_on, ended_on, outcome
    from {{ ref('stg_labour_programmes__participants') }}
    union all
    select 'health_insurance', insured_id, mention_id, programme_code, started_on, ended_on, coverage_type
    from {{ ref('stg_health_insurance__members') }}
),

persons as (
    select e.source, e.source_record_key, d.household_key, c.master_person_id as person_key, e.programme_code,
           e.started_on, e.ended_on, e.status, null as exit_reason
    from person_enrolment e
    left join {{ source('linkage', 'person_clusters') }} c on c.mention_id = e.mention_id
    left join {{ ref('dim_person') }} d on d.person_key = c.master_person_id
),

final as (
    select md5(source || ':' || source_record_key) as enrolment_key, source, source_record_key,
           coalesce(household_key, 'unknown') as household_key, coalesce(person_key, 'unknown') as person_key,
           programme_code, started_on, ended_on, status, exit_reason
    from (select * from household_enrolment union all select * from persons)
)

select * from final
