with source as (
    select * from {{ source('raw', 'ssc_insured__contributions') }}
),

renamed as (
    select
        'ssc_insured__contributions:' || insured_no as mention_id,
        insured_no as record_key,
        insured_no,
        {{ sj_person_columns('full') }},
        {{ sj_month('contribution_month') }} as contribution_month,
        {{ sj_amount('wage') }} as wage,
        lower(trim(sector)) as sector,
        {{ sj_bool('is_active') }} as is_active,
        {{ sj_provenance() }}
    from source
)

select * from renamed
