{#- Services a person received: health-insurance coverage, school enrolment by academic year,
    social-service cases and referrals. -#}
with health as (
    select 'health_insurance' as source, insured_id as source_record_key, mention_id, 'health_insurance' as service_type,
           programme_code, coverage_type as service_detail, started_on, ended_on, null::varchar as outcome
    from {{ ref('stg_health_insurance__members') }}
),

school as (
    select 'school_enrolment', enrolment_id, mention_id, 'schooling', null, academic_year,
           make_date(academic_year_start, 9, 1), make_date(academic_year_start + 1, 6, 30), status
    from {{ ref('stg_school_enrolment__enrolments') }}
),

social as (
    select 'mosd_services', case_id, mention_id, service_type, programme_code, disability_severity,
           opened_on, closed_on, outcome
    from {{ ref('stg_mosd_services__cases') }}
),

services as (
    select * from health union all select * from school union all select * from social
),

final as (
    select
        md5(s.source || ':' || s.source_record_key) as service_key,
        s.source,
        s.source_record_key,
        coalesce(c.master_person_id, 'unknown') as person_key,
        coalesce(d.household_key, 'unknown') as household_key,
        s.service_type,
        coalesce(s.programme_code, 'unknown') as programme_code,
        s.service_detail,
        s.started_on,
        s.ended_on,
        s.outcome,
        case when s.ended_on is not null and s.started_on is not null
             then date_diff('day', s.started_on, s.ended_on) end as days_open
    from services s
    left join {{ source('linkage', 'person_clusters') }} c using (mention_id)
    left join {{ ref('dim_person') }} d on d.person_key = c.master_person_id
)

select * from final
