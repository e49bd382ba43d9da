with source as (
    select * from {{ source('raw', 'ssc_insured__pensions') }}
),

renamed as (
    select
        'ssc_insured__pensions:' || pension_no as mention_id,
        pension_no as record_key,
        pension_no,
        {{ sj_person_columns('full') }},
        lower(trim(pension_type)) as pension_type,
        {{ sj_amount('monthly_amount') }} as monthly_amount,
        {{ sj_date('started_on') }} as started_on,
        {{ sj_provenance() }}
    from source
)

select * from renamed
