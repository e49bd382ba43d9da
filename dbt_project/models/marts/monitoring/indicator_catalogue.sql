{#- The profile's indicator catalogue (config/profiles/<profile>/indicators.yaml). -#}
with indicators as (
    select * from {{ source('raw', 'ref_indicators') }}
),

final as (
    select
        i.indicator_code, i.sort_order, i.pillar, p.name_ar as pillar_name_ar, p.name_en as pillar_name_en,
        p.sort_order as pillar_order, i.name_ar, i.name_en, definition_ar, definition_en,
        numerator_ar, numerator_en, denominator_ar, denominator_en, unit, kind,
        cast(quantile as double) as quantile, direction, additive_over_time,
        cast(baseline_year as bigint) as baseline_year, cast(baseline_value as double) as baseline_value,
        cast(computed_by as varchar) as computed_by,
        (select string_agg(dimension, ', ' order by dimension) from {{ source('raw', 'ref_indicator_disaggregations') }} d
          where d.indicator_code = i.indicator_code and d.dimension <> 'national') as disaggregations
    from indicators i
    join {{ source('raw', 'ref_pillars') }} p using (pillar)
)

select * from final
