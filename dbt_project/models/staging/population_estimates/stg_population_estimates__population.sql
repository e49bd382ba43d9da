{{ config(enabled=sj_source_active('population_estimates')) }}

{#- The statistics office's population estimates, typed: persons at the end of `year` by
    governorate, sex and age band (age_to null: open-ended). -#}
with source as (
    select * from {{ sj_raw_rows('population_estimates__population') }}
),

renamed as (
    select
        {{ sj_integer('year') }} as year,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_sex('sex') }} as sex,
        {{ sj_integer('age_from') }} as age_from,
        {{ sj_integer('age_to') }} as age_to,
        {{ sj_integer('persons') }} as persons,
        {{ sj_provenance() }}
    from source
)

select * from renamed
