{{ config(enabled=sj_source_active('unhcr_refugees')) }}

with source as (
    select *, null::varchar as national_id from {{ sj_raw_rows('unhcr_refugees__individuals') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        'unhcr_refugees__individuals:' || individual_id as mention_id,
        individual_id as record_key,
        individual_id,
        upper(trim(case_number)) as case_number,
        upper(trim(moi_card_no)) as moi_card_no,
        {{ sj_person_columns('parts') }},
        upper(trim(nationality)) as nationality,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_phone('phone') }} as phone,
        lower(trim(relationship_to_pa)) as relationship_to_pa,
        {{ sj_date('registered_on') }} as registered_on,
        {{ sj_provenance() }}
    from named
)

select * from renamed
