{#- Payments per month, programme, source and governorate: a periodic snapshot, partitioned by
    period_month (tag `monthly`). A run rebuilds only its months: their rows are deleted, then
    inserted again from fct_payment; every other month stays as it was. Payments without a
    period_month belong to no month and are not counted here. -#}
{{ config(pre_hook="{{ delete_run_months('period_month') }}") }}

with payments as (
    select * from {{ ref('fct_payment') }}
    where {{ in_run_months('period_month') }}
),

households as (
    select household_key, governorate_code from {{ ref('dim_household') }}
),

final as (
    select
        p.period_month,
        p.programme_code,
        p.source,
        coalesce(h.governorate_code, 'unknown') as governorate_code,
        count(*) as payments,
        count(*) filter (where p.status = 'paid') as payments_paid,
        count(distinct p.household_key) filter (where p.status = 'paid' and p.household_key <> 'unknown') as households_paid,
        sum(p.amount)::decimal(18, 3) as amount,
        coalesce(sum(p.amount) filter (where p.status = 'paid'), 0)::decimal(18, 3) as amount_paid
    from payments p
    left join households h using (household_key)
    group by p.period_month, p.programme_code, p.source, coalesce(h.governorate_code, 'unknown')
)

select * from final
