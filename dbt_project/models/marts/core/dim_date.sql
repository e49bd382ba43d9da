{#- A calendar covering every fact date (monthly, quarterly and yearly periods). -#}
with bounds as (
    select least(min(due_on), min(paid_on), min(period_month)) as first_day,
           greatest(max(due_on), max(paid_on), {{ sj_reference_date() }}) as last_day
    from {{ ref('fct_payment') }}
),

days as (
    select cast(unnest(generate_series(cast(date_trunc('year', first_day) as date), cast(last_day as date), interval 1 day)) as date) as date_day
    from bounds
),

final as (
    select
        date_day,
        cast(date_trunc('month', date_day) as date) as month_start,
        cast(date_trunc('quarter', date_day) as date) as quarter_start,
        cast(date_trunc('year', date_day) as date) as year_start,
        year(date_day) as year,
        quarter(date_day) as quarter,
        month(date_day) as month,
        strftime(date_day, '%Y-%m') as period_month
    from days
)

select * from final
