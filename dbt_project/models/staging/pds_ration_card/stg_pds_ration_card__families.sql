{{ config(enabled=sj_source_active('pds_ration_card')) }}

with source as (
    select * from {{ sj_raw_rows('pds_ration_card__families') }}
),

renamed as (
    select
        {{ sj_clean_id_of('ration_card_no', 'ration_card') }} as ration_card_no,
        {{ sj_national_id('head_national_id') }} as head_national_id,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        agent_code,
        {{ sj_integer('family_size') }} as family_size,
        {{ sj_date('issued_on') }} as issued_on,
        {{ sj_date('last_updated_on') }} as last_updated_on,
        {{ sj_provenance() }}
    from source
)

select * from renamed
