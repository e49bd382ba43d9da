{{ config(enabled=sj_source_active('molsa_spn')) }}

with source as (
    select * from {{ sj_raw_rows('molsa_spn__households') }}
),

renamed as (
    select
        household_id,
        {{ sj_national_id('head_national_id') }} as head_national_id,
        {{ sj_clean_id_of('ration_card_no', 'ration_card') }} as ration_card_no,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_phone('phone') }} as phone,
        {{ sj_integer('household_size') }} as household_size,
        {{ sj_amount('pmt_score') }} as pmt_score,
        {{ sj_date('enrolled_on') }} as enrolled_on,
        lower(trim(status)) as status,
        exit_reason,
        {{ sj_date('exited_on') }} as exited_on,
        {{ sj_invalid('exited_on', sj_date('exited_on')) }} as exited_on_is_invalid,
        {{ sj_date('last_updated_on') }} as last_updated_on,
        {{ sj_provenance() }}
    from source
)

select * from renamed
