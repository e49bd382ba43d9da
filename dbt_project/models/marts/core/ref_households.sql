{#- External denominator of household coverage (reference/indicators.md: ref_households): the
    statistics office's estimate of households at the end of each year by governorate; the
    newest delivery of a year wins, unconformed governorates are left out (staging tests warn). -#}
with estimates as (
    select * from {{ ref('stg_population_estimates__households') }}
    where year is not null and governorate_code is not null and households is not null
),

latest as (
    select *
    from estimates
    qualify _source_file = max(_source_file) over (partition by year)
),

final as (
    select year, governorate_code, sum(households)::bigint as households
    from latest
    group by all
)

select * from final
