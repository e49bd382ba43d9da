with source as (
    select * from {{ source('raw', 'welfare_survey__households') }}
),

renamed as (
    select
        survey_household_id,
        {{ sj_national_id('head_national_id') }} as head_national_id,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_integer('household_size') }} as household_size,
        {{ sj_amount('consumption_pc_month') }} as consumption_pc_month,
        {{ sj_date('surveyed_on') }} as surveyed_on,
        {{ sj_amount('sample_weight') }} as sample_weight,
        {{ sj_provenance() }}
    from source
)

select * from renamed
