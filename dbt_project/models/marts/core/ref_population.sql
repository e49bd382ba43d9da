{#- External denominators of the coverage indicators (reference/indicators.md: ref_population):
    the statistics office's estimate of persons at the end of each year by governorate, sex and
    age band. When several deliveries hold a year, the newest file (the latest vintage) wins.
    Rows whose governorate or sex the profile cannot conform are left out; the staging tests warn. -#}
with estimates as (
    select * from {{ ref('stg_population_estimates__population') }}
    where year is not null and governorate_code is not null and sex is not null and age_from is not null
      and persons is not null
),

latest as (
    select *
    from estimates
    qualify _source_file = max(_source_file) over (partition by year)
),

final as (
    select year, governorate_code, sex, age_from, age_to, sum(persons)::bigint as persons
    from latest
    group by all
)

select * from final
