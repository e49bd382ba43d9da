{{ config(enabled=sj_source_active('population_estimates')) }}

{#- The statistics office's household estimates, typed: households at the end of `year` by governorate. -#}
with source as (
    select * from {{ sj_raw_rows('population_estimates__households') }}
),

renamed as (
    select
        {{ sj_integer('year') }} as year,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_integer('households') }} as households,
        {{ sj_provenance() }}
    from source
)

select * from renamed
