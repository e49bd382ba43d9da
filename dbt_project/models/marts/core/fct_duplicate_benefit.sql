{#- The registry's answer to double payment (منع الازدواجية): each case where one master
    household was paid in the same month by two or more programmes of the same exclusivity
    group, or where one master person is registered twice in one programme. -#}
with paid as (
    select p.household_key, p.programme_code, g.exclusivity_group, p.period_month, sum(p.amount) as amount,
           count(*) as payments
    from {{ ref('fct_payment') }} p
    join {{ ref('dim_programme') }} g using (programme_code)
    where p.status = 'paid' and g.exclusivity_group is not null and p.household_key <> 'unknown'
    group by all
),

overlapping as (
    select household_key, exclusivity_group, period_month,
           count(distinct programme_code) as programmes,
           list(distinct programme_code order by programme_code) as programme_codes,
           sum(amount) as amount_total,
           sum(amount) - max(amount) as amount_at_stake
    from paid
    group by all
    having count(distinct programme_code) > 1
),

registered_twice as (
    select e.person_key, d.household_key, e.programme_code,
           count(*) as registrations,
           list(e.source_record_key order by e.source_record_key) as source_record_keys
    from {{ ref('fct_enrolment') }} e
    join {{ ref('dim_person') }} d using (person_key)
    where e.person_key <> 'unknown'
    group by all
    having count(*) > 1
),

members_twice as (
    select c.master_person_id as person_key, d.household_key, m.programme_code,
           count(*) as registrations, list(m.source_record_key order by m.source_record_key) as source_record_keys
    from {{ ref('int_programme_memberships') }} m
    join {{ source('linkage', 'person_clusters') }} c using (mention_id)
    join {{ ref('dim_person') }} d on d.person_key = c.master_person_id
    group by all
    having count(*) > 1
),

final as (
    select
        md5('overlap:' || household_key || ':' || exclusivity_group || ':' || cast(period_month as varchar)) as case_key,
        'paid_by_overlapping_programmes' as case_type,
        household_key,
        null::varchar as person_key,
        exclusivity_group,
        programme_codes,
        period_month,
        programmes as count_involved,
        amount_total,
        amount_at_stake
    from overlapping
    union all
    select
        md5('twice:' || person_key || ':' || programme_code),
        'registered_twice_in_programme',
        household_key,
        person_key,
        null,
        [programme_code],
        null,
        registrations,
        null,
        null
    from (select * from registered_twice union all select * from members_twice)
)

select * from final
