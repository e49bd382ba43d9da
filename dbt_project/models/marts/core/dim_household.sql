{#- One row per master household: members, head (none while only children are known), governorate,
    welfare where a survey or the cash programme measured it, registry quintile and eligibility
    against the poverty line. -#}
with members as (
    select * from {{ ref('dim_person') }} where household_key <> 'unknown'
),

cash_programme as (
    select h.master_household_id, n.household_size, n.pmt_score, n.status, n.enrolled_on, n.exited_on,
           n.exit_reason, n.last_updated_on, n.head_national_id, n.governorate_code
    from {{ ref('int_programme_households') }} n
    join {{ source('linkage', 'household_links') }} h on h.source = n.household_source and h.household_ref = n.household_ref
    qualify row_number() over (partition by h.master_household_id order by n.last_updated_on desc nulls last) = 1
),

survey as (
    select p.household_key as master_household_id, s.consumption_pc_month, s.surveyed_on
    from {{ ref('int_welfare_surveys') }} s
    join members p on p.national_id = s.head_national_id
    qualify row_number() over (partition by p.household_key order by s.surveyed_on desc) = 1
),

-- The head: the one the cash programme names, else the oldest member; a household whose members
-- known so far are all children (the parents' records not yet delivered) has no head yet.
heads as (
    select household_key, person_key as head_person_key, sex as head_sex
    from (
        select *, coalesce(national_id in (select head_national_id from cash_programme
                                           where cash_programme.master_household_id = members.household_key),
                           false) as is_named_head
        from members
    )
    where is_named_head or age >= 15 or age is null
    qualify row_number() over (partition by household_key order by is_named_head desc, age desc nulls last, person_key) = 1
),

summary as (
    select household_key,
           count(*) as size_registered,
           mode(governorate_code) filter (where governorate_code <> 'unknown') as governorate_code,
           bool_or(refugee_status = 'refugee') as is_refugee_household,
           bool_or(disability_flag) as has_member_with_disability
    from members group by household_key
),

welfare as (
    select s.household_key,
           coalesce(v.consumption_pc_month, n.pmt_score) as welfare_pc_month,
           case when v.consumption_pc_month is not null then 'survey'
                when n.pmt_score is not null then 'pmt_score' end as welfare_source
    from summary s
    left join survey v on v.master_household_id = s.household_key
    left join cash_programme n on n.master_household_id = s.household_key
),

final as (
    select
        s.household_key,
        coalesce(n.household_size, s.size_registered) as household_size,
        s.size_registered,
        coalesce(n.governorate_code, s.governorate_code, 'unknown') as governorate_code,
        h.head_person_key,
        h.head_sex,
        w.welfare_pc_month,
        w.welfare_source,
        case when w.welfare_pc_month is not null
             then ntile(5) over (partition by w.welfare_pc_month is not null order by w.welfare_pc_month) end as registry_quintile,
        case when w.welfare_pc_month is not null
             then w.welfare_pc_month < {{ var('poverty_line_pc_month') }} end as is_eligible,
        n.pmt_score,
        n.status as cash_programme_status,
        n.enrolled_on as cash_programme_enrolled_on,
        n.exited_on as cash_programme_exited_on,
        n.exit_reason as cash_programme_exit_reason,
        n.last_updated_on,
        s.is_refugee_household,
        s.has_member_with_disability
    from summary s
    left join heads h using (household_key)
    left join welfare w using (household_key)
    left join cash_programme n on n.master_household_id = s.household_key
)

select * from final
union all
select 'unknown', null, 0, 'unknown', null, null, null, null, null, null, null, null, null, null, null, null, false, false
