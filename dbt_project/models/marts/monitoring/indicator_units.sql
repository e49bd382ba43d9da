{#- One row per group of alike units an indicator counts (person, household, payment, case,
    shock response) and period: their dimensions, each one's contribution to the numerator and
    denominator, a measure for percentile indicators, and how many units the row stands for
    (`units`). indicator_cells adds the rows up; the formulas of reference/indicators.md are here,
    one CTE per indicator. Regular cash social assistance means paid payments of programmes with
    sp_type SA, benefit_type cash, not shock response. Population coverage (K1, K2, T1, F2, X1,
    X4) counts registered units in the numerator and takes its denominator from the statistics
    office's estimates (ref_population, ref_households): separate numerator and denominator rows. -#}
{#- Each indicator's CTE is a part; its units alike in every column are counted into one row
    (`<part>_units`: at 1,000,000 persons a share's persons of one period and disaggregation make
    53 M unit rows, 3.2 M rows once counted), inserted by a statement of its own
    (macros/insert_by_part.sql): one statement for all of them holds every part's joins at once. -#}
{%- set parts = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10', 'k11',
                 't1', 't2', 't3', 't4', 't5', 'f1', 'f2', 'f3', 'f4',
                 's1', 's2', 's3', 's5', 'x1', 'x2', 'x4', 'x6', 'x7'] %}
{%- set unit_columns = ['indicator_code', 'grain', 'period_start'] + indicator_dimensions() + ['num', 'den', 'measure'] %}
{%- set unit_parts = [] %}{% for part in parts %}{% do unit_parts.append(part ~ '_units') %}{% endfor %}
{{ config(materialized='insert_by_part', parts=unit_parts) }}

with periods as (
    select * from {{ ref('indicator_periods') }}
),

persons as (
    select person_key, household_key, governorate_code, sex, birth_date, refugee_status,
           case when disability_flag then 'yes' else 'no' end as disability, disability_severity
    from {{ ref('dim_person') }}
    where person_key <> 'unknown'
),

households as (
    select h.household_key, h.governorate_code, coalesce(h.head_sex, 'unknown') as head_sex, hp.birth_date as head_birth_date,
           case when h.is_refugee_household then 'refugee' else coalesce(hp.refugee_status, 'unknown') end as refugee_status,
           case when h.has_member_with_disability then 'yes' else 'no' end as disability,
           coalesce(cast(h.registry_quintile as varchar), 'unknown') as quintile, h.registry_quintile,
           {{ household_size_band('h.household_size') }} as household_size_band,
           h.household_size, h.welfare_pc_month, h.welfare_source, h.is_eligible, h.last_updated_on,
           h.cash_programme_status
    from {{ ref('dim_household') }} h
    left join persons hp on hp.person_key = h.head_person_key
    where h.household_key <> 'unknown'
),

{#- A person's or household head's age at the end of the period, computed once (the columns
    below), and its bands computed from it (age_bands). -#}
{%- set age_bands -%}
    {{ age_group('age') }} as age_group, {{ age_group_ilo('age') }} as age_group_ilo
{%- endset %}
{%- set household_period_columns -%}
    h.*, d.grain, d.period_start, d.period_end, d.is_current, d.months_covered,
    {{ age_at('h.head_birth_date', 'd.period_end') }} as age
{%- endset %}
household_periods as (
    select * exclude (age), {{ age_bands }}
    from (
        select {{ household_period_columns }}
        from households h cross join periods d
    )
),

{%- set person_period_columns -%}
    p.*, h.quintile, h.registry_quintile, h.household_size_band, d.grain, d.period_start, d.period_end, d.is_current,
    {{ age_at('p.birth_date', 'd.period_end') }} as age
{%- endset %}
person_periods as (
    select *, {{ age_bands }}
    from (
        select {{ person_period_columns }}
        from persons p
        left join households h using (household_key)
        cross join periods d
    )
),

-- The estimates a period is measured against: those of its own year, else of the nearest
-- earlier year, else of the earliest year estimated (monthly and quarterly cells use their year's).
estimate_years as (
    select d.grain, d.period_start, d.is_current,
           coalesce(max(r.year) filter (where r.year <= year(d.period_end)), min(r.year)) as year
    from periods d cross join (select distinct year from {{ ref('ref_population') }}) r
    group by all
),

reference_persons as (
    select y.grain, y.period_start, y.is_current, r.governorate_code, r.sex, r.age_from, r.age_to,
           cast(r.persons as double) as persons,
           {{ age_group('r.age_from') }} as age_group, {{ age_group_ilo('r.age_from') }} as age_group_ilo
    from estimate_years y
    join {{ ref('ref_population') }} r using (year)
),

household_estimate_years as (
    select d.grain, d.period_start,
           coalesce(max(r.year) filter (where r.year <= year(d.period_end)), min(r.year)) as year
    from periods d cross join (select distinct year from {{ ref('ref_households') }}) r
    group by all
),

reference_households as (
    select y.grain, y.period_start, r.governorate_code, cast(r.households as double) as households
    from household_estimate_years y
    join {{ ref('ref_households') }} r using (year)
),

programmes as (
    select * from {{ ref('dim_programme') }}
),

regular_cash as (
    {{ regular_cash_payments() }}
),

regular_paid as (
    {{ regular_cash_payments(paid=true) }}
),

-- Households paid regular cash social assistance in a period: amount and months paid.
household_paid as (
    select * from {{ ref('indicator_households_paid') }}
),

-- Households paid any cash benefit (any programme, shock response included) in a period.
household_paid_any as (
    select distinct p.household_key, d.grain, d.period_start
    from {{ ref('fct_payment') }} p
    join programmes g using (programme_code)
    join periods d on coalesce(p.paid_on, p.period_month) between d.period_start and d.period_end
    where p.status = 'paid' and g.benefit_type = 'cash' and p.household_key <> 'unknown'
),

-- The household_periods of the households paid regular cash in a period, with what they were
-- paid (amount, months_paid): household_periods joined to household_paid, built from the paid
-- households instead of every household in every period.
paid_household_periods as (
    select * exclude (age), {{ age_bands }}
    from (
        select {{ household_period_columns }}, hp.amount, hp.months_paid
        from household_paid hp
        join households h using (household_key)
        join periods d on d.grain = hp.grain and d.period_start = hp.period_start
    )
),

-- The person_periods of the households paid regular cash in a period, with what they were paid:
-- person_periods joined to household_paid, built from the paid households instead of every
-- person in every period (3 M rows instead of 36 M at 1,000,000 persons).
paid_person_periods as (
    select *, {{ age_bands }}
    from (
        select {{ person_period_columns }}, hp.amount, hp.months_paid
        from household_paid hp
        join persons p using (household_key)
        left join households h using (household_key)
        join periods d on d.grain = hp.grain and d.period_start = hp.period_start
    )
),

-- A service counts in the periods from its start to its end (an open one in every period after
-- its start); a school enrolment for the academic year it starts (1 September to 31 August): a
-- year from its start.
services as (
    select *,
           case when service_type = 'schooling' then cast(started_on + interval 1 year - interval 1 day as date)
                else ended_on end as counts_until
    from {{ ref('fct_service') }} where person_key <> 'unknown'
),

{#- Whether a person-period row x had a service of a type (whose row meets `condition`) in its
    period: a correlated EXISTS, which DuckDB runs as a join on the person with the dates tested
    per match. A table of every person's services in every period was 14 M rows at 1,000,000
    persons, built for rows that read a few hundred thousand of them. -#}
{%- set service_in_period -%}
    exists (select 1 from services s where s.person_key = x.person_key and s.service_type = '{type}' and {condition}
            and s.started_on <= x.period_end and coalesce(s.counts_until, x.period_end) >= x.period_start)
{%- endset %}

school_periods as (
    select d.grain, d.period_start
    from periods d
    where d.period_end >= (select min(started_on) from services where service_type = 'schooling')
),

contributing as (
    select distinct c.person_key, d.grain, d.period_start
    from {{ ref('fct_social_security') }} c
    join periods d on c.contribution_month between d.period_start and d.period_end
    where c.is_active and c.person_key <> 'unknown'
),

pensioned as (
    select person_key, min(started_on) as started_on
    from {{ ref('fct_pension') }} where person_key <> 'unknown'
    group by person_key
),

-- The person_periods of the persons covered by social protection in a period (X1): of a
-- household paid any cash benefit, contributing, or pensioned by the period's end. Built from
-- those persons instead of every person in every period, as paid_person_periods is.
covered_person_periods as (
    select *, {{ age_bands }}
    from (
        select {{ person_period_columns }}
        from (select p.person_key, a.grain, a.period_start
              from household_paid_any a join persons p using (household_key)
              union
              select person_key, grain, period_start from contributing
              union
              select s.person_key, d.grain, d.period_start from pensioned s join periods d on s.started_on <= d.period_end) c
        join persons p using (person_key)
        left join households h using (household_key)
        join periods d on d.grain = c.grain and d.period_start = c.period_start
    )
),

activated as (
    select distinct l.person_key, d.grain, d.period_start
    from {{ ref('fct_labour_programme') }} l
    join periods d on l.started_on <= d.period_end and coalesce(l.ended_on, d.period_end) >= d.period_start
    where l.person_key <> 'unknown'
),

k1 as (
    {{ numerator_unit('K1', 'h', household_dimensions('h')) }}
    from paid_household_periods h
    union all
    select 'K1', r.grain, r.period_start, {{ dimension_columns({'governorate': 'r.governorate_code'}) }},
           0.0, r.households, null
    from reference_households r
),

-- Persons born by the end of the period (or of unknown age) are the registry's population then.
k2 as (
    {{ numerator_unit('K2', 'x', person_dimensions('x')) }}
    from paid_person_periods x
    where x.age is null or x.age >= 0
    union all
    {{ population_denominator('K2') }}
),

k3 as (
    {{ share_unit('K3', 'x', person_dimensions('x'), "p.household_key is not null") }}
    from person_periods x
    left join household_paid p using (household_key, grain, period_start)
    where x.registry_quintile = 1
),

k4 as (
    {{ share_unit('K4', 'h', household_dimensions('h'), "p.household_key is null") }}
    from household_periods h
    left join household_paid p using (household_key, grain, period_start)
    where h.welfare_source = 'survey' and h.is_eligible
),

k5 as (
    {{ share_unit('K5', 'h', household_dimensions('h'), "not h.is_eligible") }}
    from paid_household_periods h
    where h.welfare_source = 'survey'
),

k6 as (
    select 'K6', h.grain, h.period_start, {{ dimension_columns(household_dimensions('h')) }},
           case when h.registry_quintile = 1 then h.amount else 0 end, h.amount, null
    from paid_household_periods h
    where h.registry_quintile is not null
),

k7 as (
    {{ share_unit('K7', 'x', person_dimensions('x'), "x.registry_quintile = 1") }}
    from paid_person_periods x
    where x.registry_quintile is not null
),

k8 as (
    select 'K8', h.grain, h.period_start, {{ dimension_columns(household_dimensions('h')) }},
           h.amount, h.welfare_pc_month * h.household_size * h.months_covered, null
    from paid_household_periods h
    where h.welfare_pc_month > 0 and h.household_size > 0
),

k9 as (
    select unnest(['K9', 'K9P', 'K9L']) as indicator_code, h.grain, h.period_start,
           {{ dimension_columns(household_dimensions('h')) }},
           h.amount,
           unnest([h.months_paid, h.months_paid * h.household_size,
                   h.months_paid * h.household_size * {{ var('poverty_line_pc_month') }}]), null
    from paid_household_periods h
    where h.household_size > 0
),

scheduled as (
    select r.*, d.grain, d.period_start, hh.governorate_code
    from regular_cash r
    join periods d on r.due_on between d.period_start and d.period_end
    left join households hh using (household_key)
    where r.status in ('paid', 'failed', 'pending')
),

k10 as (
    select 'K10', s.grain, s.period_start, {{ dimension_columns({'governorate': 's.governorate_code', 'channel': 's.channel'}) }},
           case when s.status = 'paid' and s.paid_on <= s.due_on then 1.0 else 0.0 end, 1.0, null
    from scheduled s
    union all
    select 'K10M', s.grain, s.period_start, {{ dimension_columns({'governorate': 's.governorate_code', 'channel': 's.channel'}) }},
           null, null, greatest(date_diff('day', s.due_on, s.paid_on), 0)
    from scheduled s
    where s.status = 'paid' and s.paid_on is not null
),

-- Benefit–cost ratio: poverty gap of the period before and after the transfers (welfare is pre-transfer).
k11 as (
    select 'K11', h.grain, h.period_start, {{ dimension_columns(household_dimensions('h')) }},
           h.household_size * h.months_covered * greatest({{ var('poverty_line_pc_month') }} - h.welfare_pc_month, 0)
           - h.household_size * h.months_covered * greatest({{ var('poverty_line_pc_month') }}
               - (h.welfare_pc_month + h.amount / (h.household_size * h.months_covered)), 0),
           h.amount, null
    from paid_household_periods h
    where h.welfare_pc_month is not null and h.household_size > 0 and h.months_covered > 0
),

t1 as (
    {{ numerator_unit('T1', 'x', person_dimensions('x')) }}
    from paid_person_periods x
    where x.age between 0 and 17
    union all
    {{ population_denominator('T1', 'r.age_to <= 17') }}
),

t2 as (
    {{ share_unit('T2', 'x', person_dimensions('x'), "p.household_key is not null or " ~ service_in_period.format(type='disability', condition='true')) }}
    from person_periods x
    left join household_paid p using (household_key, grain, period_start)
    where x.disability = 'yes'
),

t3 as (
    {{ share_unit('T3', 'x', person_dimensions('x'), service_in_period.format(type='health_insurance', condition='true')) }}
    from paid_person_periods x
),

t4 as (
    {{ share_unit('T4', 'x', person_dimensions('x'), service_in_period.format(type='schooling', condition="s.outcome = 'enrolled'")) }}
    from paid_person_periods x
    join school_periods using (grain, period_start)
    where x.age between 6 and 15
),

t5 as (
    select 'T5', d.grain, d.period_start,
           {{ dimension_columns({'governorate': 'coalesce(x.governorate_code, \'unknown\')', 'sex': 'coalesce(x.sex, \'unknown\')',
                                 'category': 's.service_type'}) }},
           case when s.outcome = 'delivered' and s.days_open <= 30 then 1.0 else 0.0 end, 1.0, null
    from services s
    join periods d on s.started_on between d.period_start and d.period_end
    left join persons x using (person_key)
    where s.source in {{ sj_sql_list(var('indicator_sources')['case_management']) }} and s.service_type in ('referral', 'case_management')
),

f1 as (
    {{ share_unit('F1', 'x', person_dimensions('x'), "c.person_key is not null") }}
    from person_periods x
    left join contributing c using (person_key, grain, period_start)
    where x.age between 15 and 64
),

f2 as (
    {{ numerator_unit('F2', 'x', person_dimensions('x')) }}
    from person_periods x
    join pensioned s using (person_key)
    where x.age >= {{ var('pensionable_age') }} and s.started_on <= x.period_end
    union all
    {{ population_denominator('F2', 'r.age_from >= ' ~ var('pensionable_age')) }}
),

f3 as (
    {{ share_unit('F3', 'x', person_dimensions('x'), "a.person_key is not null") }}
    from paid_person_periods x
    left join activated a on a.person_key = x.person_key and a.grain = x.grain and a.period_start = x.period_start
    where x.age between 15 and 64
),

f4 as (
    select 'F4', d.grain, d.period_start,
           {{ dimension_columns({'governorate': 'coalesce(h.governorate_code, \'unknown\')', 'sex': 'coalesce(h.head_sex, \'unknown\')'}) }},
           case when e.exit_reason in ('employment', 'income_increase') then 1.0 else 0.0 end, 1.0, null
    from {{ ref('fct_enrolment') }} e
    join periods d on e.ended_on between d.period_start and d.period_end
    left join households h using (household_key)
    where e.source in {{ sj_sql_list(var('indicator_sources')['cash_programme_exits']) }} and e.status = 'exited'
),

shocks as (
    select s.*, d.grain, d.period_start
    from {{ ref('fct_shock') }} s
    join periods d on s.declared_on between d.period_start and d.period_end
),

-- Each household's first paid emergency payment per shock (a recipient whose household the
-- registry does not know counts as a household of its own rather than being dropped).
first_emergency as (
    select shock_id,
           case when household_key = 'unknown' then 'person:' || person_key else household_key end as household_key,
           min(paid_on) as first_paid_on, bool_or(was_existing_beneficiary) as was_existing
    from {{ ref('fct_shock_payment') }}
    where status = 'paid' and paid_on is not null and (household_key <> 'unknown' or person_key <> 'unknown')
    group by all
),

s1 as (
    select unnest(['S1', 'S1P90', 'S1W7', 'S1W14', 'S1W30']) as indicator_code, s.grain, s.period_start,
           {{ dimension_columns({'governorate': 'coalesce(h.governorate_code, \'unknown\')', 'shock': 's.shock_id',
                                 'category': "case when f.was_existing then 'existing_beneficiary' else 'new_beneficiary' end"}) }},
           unnest([null, null,
                   case when date_diff('day', s.declared_on, f.first_paid_on) <= 7 then 1.0 else 0.0 end,
                   case when date_diff('day', s.declared_on, f.first_paid_on) <= 14 then 1.0 else 0.0 end,
                   case when date_diff('day', s.declared_on, f.first_paid_on) <= 30 then 1.0 else 0.0 end]),
           unnest([null, null, 1.0, 1.0, 1.0]),
           unnest([date_diff('day', s.declared_on, f.first_paid_on), date_diff('day', s.declared_on, f.first_paid_on), null, null, null])
    from first_emergency f
    join shocks s using (shock_id)
    left join households h using (household_key)
),

-- Regular beneficiaries in the 3 months before each shock.
existing_before as (
    select distinct s.shock_id, r.household_key
    from regular_paid r
    join shocks s on r.paid_on >= s.declared_on - interval 3 month and r.paid_on < s.declared_on
    where s.grain = 'year'
),

affected_households as (
    select s.shock_id, s.grain, s.period_start, h.*
    from shocks s
    join households h on list_contains(s.affected_governorate_codes, h.governorate_code)
),

s2 as (
    select unnest(['S2', 'S2N', 'S4']) as indicator_code, a.grain, a.period_start,
           {{ dimension_columns({'governorate': 'a.governorate_code', 'shock': 'a.shock_id', 'refugee_status': 'a.refugee_status',
                                 'sex': 'a.head_sex', 'disability': 'a.disability'}) }},
           unnest([case when f.household_key is not null and e.household_key is null then 1.0 else 0.0 end,
                   case when f.household_key is not null and e.household_key is null then 1.0 else 0.0 end,
                   case when f.household_key is not null then 1.0 else 0.0 end]),
           unnest([1.0, null, 1.0]), null
    from affected_households a
    left join first_emergency f on f.shock_id = a.shock_id and f.household_key = a.household_key
    left join existing_before e on e.shock_id = a.shock_id and e.household_key = a.household_key
),

top_ups as (
    select shock_id, household_key, sum(amount) as amount, list(distinct cast(date_trunc('month', paid_on) as date)) as months
    from {{ ref('fct_shock_payment') }}
    where status = 'paid' and is_top_up and household_key <> 'unknown'
    group by all
),

top_up_months as (
    select distinct shock_id, unnest(months) as month_start from top_ups
),

regular_in_top_up_months as (
    select m.shock_id, r.household_key, sum(r.amount) as amount
    from top_up_months m
    join regular_paid r on cast(date_trunc('month', r.paid_on) as date) = m.month_start
    group by all
),

s3 as (
    select 'S3', a.grain, a.period_start, {{ dimension_columns({'governorate': 'a.governorate_code', 'shock': 'a.shock_id'}) }},
           coalesce(t.amount, 0), coalesce(r.amount, 0), null
    from affected_households a
    left join top_ups t on t.shock_id = a.shock_id and t.household_key = a.household_key
    left join regular_in_top_up_months r on r.shock_id = a.shock_id and r.household_key = a.household_key
    where t.household_key is not null or r.household_key is not null
    union all
    select 'S3B', a.grain, a.period_start, {{ dimension_columns({'governorate': 'a.governorate_code', 'shock': 'a.shock_id'}) }},
           case when t.household_key is not null then 1.0 else 0.0 end, 1.0, null
    from affected_households a
    join existing_before e on e.shock_id = a.shock_id and e.household_key = a.household_key
    left join top_ups t on t.shock_id = a.shock_id and t.household_key = a.household_key
),

-- Registry readiness and freshness: known only as of the reference date (current periods).
s5 as (
    {{ share_unit('S5', 'h', household_dimensions('h'), "h.last_updated_on > h.period_end - interval 24 month") }}
    from household_periods h
    where h.is_current and h.cash_programme_status is not null
    union all
    {{ share_unit('X5', 'h', household_dimensions('h'), "h.last_updated_on > h.period_end - interval 24 month") }}
    from household_periods h
    where h.is_current
),

x1 as (
    {{ numerator_unit('X1', 'x', person_dimensions('x')) }}
    from covered_person_periods x
    where x.age is null or x.age >= 0
    union all
    {{ population_denominator('X1') }}
),

grouped_paid as (
    select distinct p.household_key, d.grain, d.period_start
    from {{ ref('fct_payment') }} p
    join programmes g using (programme_code)
    join periods d on p.period_month between d.period_start and d.period_end
    where p.status = 'paid' and g.exclusivity_group is not null and p.household_key <> 'unknown'
),

duplicates as (
    select b.*, d.grain, d.period_start
    from {{ ref('fct_duplicate_benefit') }} b
    join periods d on b.period_month between d.period_start and d.period_end
    where b.case_type = 'paid_by_overlapping_programmes'
),

x2 as (
    select 'X2', h.grain, h.period_start, {{ dimension_columns(household_dimensions('h')) }},
           case when exists (select 1 from duplicates b where b.household_key = g.household_key and b.grain = g.grain
                             and b.period_start = g.period_start) then 1.0 else 0.0 end, 1.0, null
    from grouped_paid g
    join household_periods h using (household_key, grain, period_start)
    union all
    select 'X3', b.grain, b.period_start, {{ dimension_columns({'governorate': 'coalesce(h.governorate_code, \'unknown\')'}) }},
           b.amount_at_stake, null, null
    from duplicates b
    left join households h using (household_key)
),

-- Registry coverage: registered persons (numerator) against the estimated population
-- (denominator), known as of the reference date (current periods).
x4 as (
    {{ numerator_unit('X4', 'x', person_dimensions('x')) }}
    from person_periods x
    where x.is_current and (x.age is null or x.age >= 0)
    union all
    {{ population_denominator('X4', 'r.is_current') }}
),

-- Data quality: each agency's overall score in its latest scorecard run, known as of the
-- reference date (current periods); the national value is the mean over agencies.
x6 as (
    select 'X6', d.grain, d.period_start, {{ dimension_columns({'category': 's.source'}) }},
           cast(s.overall_score as double), 1.0, null
    from {{ ref('dq_scorecard') }} s cross join periods d
    where s.is_latest_run and d.is_current and s.overall_score is not null
),

grievances as (
    select g.*, d.grain, d.period_start, x.sex
    from {{ ref('fct_grievance') }} g
    join periods d on g.opened_on between d.period_start and d.period_end
    left join persons x using (person_key)
),

x7 as (
    select 'X7', g.grain, g.period_start,
           {{ dimension_columns({'governorate': 'g.governorate_code', 'sex': 'coalesce(g.sex, \'unknown\')', 'channel': 'g.channel'}) }},
           case when g.resolved_on is not null then 1.0 else 0.0 end, 1.0, null
    from grievances g
    union all
    select 'X8', g.grain, g.period_start,
           {{ dimension_columns({'governorate': 'g.governorate_code', 'sex': 'coalesce(g.sex, \'unknown\')', 'channel': 'g.channel'}) }},
           null, null, g.days_to_resolve
    from grievances g
    where g.resolved_on is not null
),

{%- for part in parts %}
{{ part }}_units as (
    select *, count(*) as units
    from {{ part }} as u({{ unit_columns | join(', ') }})
    group by all
),
{% endfor %}
final as (
    {%- for part in parts %}
    select * from {{ part }}_units{{ ' union all' if not loop.last }}
    {%- endfor %}
)

select * from final
