{#- The reporting periods: every month, quarter and year from the first to the last month with
    a paid payment. A quarter or year that the data cover only in part is not complete; the
    periods holding the last month are current (registry snapshots are reported for them). -#}
with bounds as (
    select cast(min(period_month) as date) as first_month,
           cast(max(period_month) + interval 1 month - interval 1 day as date) as last_day
    from {{ ref('fct_payment') }}
    where status = 'paid' and period_month is not null
),

months as (
    select cast(unnest(generate_series(first_month, cast(date_trunc('month', last_day) as date), interval 1 month)) as date) as month_start,
           first_month, last_day
    from bounds
),

grains as (
    select 'month' as grain, month_start as period_start, first_month, last_day from months
    union
    select 'quarter', cast(date_trunc('quarter', month_start) as date), first_month, last_day from months
    union
    select 'year', cast(date_trunc('year', month_start) as date), first_month, last_day from months
),

final as (
    select
        grain,
        period_start,
        cast(period_start + case grain when 'month' then interval 1 month when 'quarter' then interval 3 month
                                  else interval 1 year end - interval 1 day as date) as period_end,
        case grain when 'month' then strftime(period_start, '%Y-%m')
                   when 'quarter' then strftime(period_start, '%Y') || '-Q' || cast(quarter(period_start) as varchar)
                   else strftime(period_start, '%Y') end as period_label,
        year(period_start) as year,
        period_start >= first_month
          and period_start + case grain when 'month' then interval 1 month when 'quarter' then interval 3 month
                                        else interval 1 year end - interval 1 day <= last_day as is_complete,
        last_day between period_start
          and period_start + case grain when 'month' then interval 1 month when 'quarter' then interval 3 month
                                    else interval 1 year end - interval 1 day as is_current,
        cast(date_diff('month', greatest(period_start, first_month),
                       least(period_start + case grain when 'month' then interval 1 month
                                                       when 'quarter' then interval 3 month else interval 1 year end,
                             cast(date_trunc('month', last_day) as date) + interval 1 month)) as bigint) as months_covered
    from grains
)

select * from final
