{#- Each indicator's national value for the scorecard year (the latest complete year, else the
    latest year; for registry snapshots, reported only for the current year, that year) against
    its target: the year before, the trend and a status. Reads only the published
    (disclosure-controlled) values. -#}
with catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

national as (
    select * from {{ ref('indicator_values') }}
    where grain = 'year' and dimension = 'national'
),

scorecard_year as (
    select coalesce(max(year(period_start)) filter (where is_complete), max(year(period_start))) as year
    from {{ ref('indicator_periods') }}
    where grain = 'year'
),

indicator_year as (
    select k.indicator_code,
           coalesce(max(year(n.period_start)) filter (where year(n.period_start) = y.year), max(year(n.period_start)), y.year) as year
    from catalogue k
    cross join scorecard_year y
    left join national n using (indicator_code)
    group by k.indicator_code, y.year
),

final as (
    select
        k.indicator_code,
        k.pillar,
        k.sort_order,
        k.name_ar,
        k.name_en,
        k.unit,
        k.direction,
        y.year,
        cur.is_complete as is_complete_year,
        cur.value,
        cur.is_suppressed,
        prev.value as previous_value,
        cur.value - prev.value as change,
        k.baseline_year,
        coalesce(k.baseline_value, base.value) as baseline_value,
        t.target,
        case
            when cur.value is null or prev.value is null then 'not_available'
            when cur.value = prev.value then 'stable'
            when (cur.value > prev.value) = (k.direction = 'higher_is_better') then 'improving'
            else 'worsening'
        end as trend,
        case
            when k.computed_by is not null and cur.value is null then 'computed_elsewhere'
            when cur.is_suppressed then 'suppressed'
            when cur.value is null then 'no_data'
            when t.target is null then 'no_target'
            when (k.direction = 'higher_is_better' and cur.value >= t.target)
              or (k.direction = 'lower_is_better' and cur.value <= t.target) then 'on_track'
            else 'off_track'
        end as status
    from catalogue k
    join indicator_year y using (indicator_code)
    left join national cur on cur.indicator_code = k.indicator_code and year(cur.period_start) = y.year
    left join national prev on prev.indicator_code = k.indicator_code and year(prev.period_start) = y.year - 1
                           and prev.is_complete
    left join national base on base.indicator_code = k.indicator_code and year(base.period_start) = k.baseline_year
    left join {{ ref('indicator_targets') }} t on t.indicator_code = k.indicator_code and t.year = y.year
)

select * from final
