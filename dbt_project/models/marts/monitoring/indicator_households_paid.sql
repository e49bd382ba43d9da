{#- Households paid regular cash social assistance in each reporting period: what they were paid
    and in how many months. Many of indicator_units' parts read it (K1–K11, T1–T4, F3, through the
    paid households' and their members' periods); a table of its own so that it is computed once,
    not once in each of those parts (0.7 s each at 1,000,000 persons). -#}
with periods as (
    select * from {{ ref('indicator_periods') }}
),

regular_paid as (
    {{ regular_cash_payments(paid=true) }}
),

final as (
    select r.household_key, d.grain, d.period_start, sum(r.amount) as amount,
           count(distinct r.period_month) as months_paid
    from regular_paid r
    join periods d on r.period_month between d.period_start and d.period_end
    group by all
)

select * from final
