{#- Household enrolment in the cash programme, and person enrolments in services, training and
    insurance, one row per source record. -#}
with enrolments as (
    select e.source, e.source_record_key, coalesce(h.master_household_id, d.household_key) as household_key,
           c.master_person_id as person_key, e.programme_code, e.started_on, e.ended_on, e.status, e.exit_reason
    from {{ ref('int_enrolments') }} e
    left join {{ source('linkage', 'household_links') }} h
      on h.source = e.household_source and h.household_ref = e.household_ref
    left join {{ source('linkage', 'person_clusters') }} c on c.mention_id = e.mention_id
    left join {{ ref('dim_person') }} d on d.person_key = c.master_person_id
),

final as (
    select md5(source || ':' || source_record_key) as enrolment_key, source, source_record_key,
           coalesce(household_key, 'unknown') as household_key, coalesce(person_key, 'unknown') as person_key,
           programme_code, started_on, ended_on, status, exit_reason
    from enrolments
)

select * from final
