{#- Every indicator's value per period (month, quarter, year) and disaggregation, before
    disclosure control: engineering warehouse only. indicator_values is what is published;
    indicator_cells_month holds the month rows, partitioned by month. -#}
{%- set dims = indicator_dimensions() %}
with unit_groups as (
    select * from {{ ref('indicator_units') }}
),

catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

{#- The grouping of every cell: indicator, period, and the national total or one disaggregation. -#}
{%- set cell_columns -%}
        indicator_code,
        grain,
        period_start,
        case
            {%- for d in dims %}
            when grouping({{ d }}) = 0 then '{{ d }}'
            {%- endfor %}
            else 'national' end as dimension,
        coalesce(
            {%- for d in dims %}
            case when grouping({{ d }}) = 0 then coalesce({{ d }}, 'unknown') end,
            {%- endfor %}
            'total') as dimension_value
{%- endset %}
{%- set cell_grouping -%}
    group by indicator_code, grain, period_start, grouping sets (
        (){% for d in dims %}, ({{ d }}){% endfor %})
{%- endset %}

-- Sums and counts weigh each row by the alike units it stands for (`units`).
totals as (
    select
        {{ cell_columns }},
        sum(num * units) as numerator,
        sum(den * units) as denominator,
        cast(coalesce(sum(units) filter (where den > 0), 0) as bigint) as units,
        cast(coalesce(sum(units) filter (where num > 0), 0) as bigint) as units_numerator
    from unit_groups
    {{ cell_grouping }}
),

-- Percentiles read the measured rows alone, each repeated once per unit it stands for. Computed
-- apart from the sums: the same grouping sets over every unit row held a median's values for
-- every cell (11.6 s of indicator_cells at 1,000,000 persons).
measured as (
    select
        {{ cell_columns }},
        count(measure) as units_measured,
        median(measure) as measure_p50,
        quantile_cont(measure, 0.9) as measure_p90
    from (select g.* from unit_groups g cross join unnest(range(g.units)) where g.measure is not null)
    {{ cell_grouping }}
),

cells as (
    select t.*, coalesce(m.units_measured, 0) as units_measured, m.measure_p50, m.measure_p90
    from totals t
    left join measured m using (indicator_code, grain, period_start, dimension, dimension_value)
),

final as (
    select
        md5(c.indicator_code || '|' || c.grain || '|' || cast(c.period_start as varchar) || '|' || c.dimension || '|'
            || c.dimension_value) as cell_id,
        c.indicator_code,
        k.pillar,
        c.grain,
        c.period_start,
        p.period_end,
        p.period_label,
        p.is_complete,
        c.dimension,
        c.dimension_value,
        c.numerator,
        c.denominator,
        case when k.kind = 'quantile' then c.units_measured else c.units end as units,
        c.units_numerator,
        case
            when k.kind = 'quantile' then case when k.quantile = 0.9 then c.measure_p90 else c.measure_p50 end
            when k.kind in ('sum', 'count') then c.numerator
            else c.numerator / nullif(c.denominator, 0) * case when k.unit = 'percent' then 100 else 1 end
        end as value,
        k.kind,
        k.unit
    from cells c
    join catalogue k using (indicator_code)
    join {{ source('raw', 'ref_indicator_disaggregations') }} d
      on d.indicator_code = c.indicator_code and d.dimension = c.dimension
    join {{ ref('indicator_periods') }} p on p.grain = c.grain and p.period_start = c.period_start
)

select * from final
