{#- Services a person received: health-insurance coverage, school enrolment by academic year,
    social-service cases and referrals. -#}
with services as (
    select * from {{ ref('int_services') }}
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
