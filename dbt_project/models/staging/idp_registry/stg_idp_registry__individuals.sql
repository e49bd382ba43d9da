{{ config(enabled=sj_source_active('idp_registry')) }}

with source as (
    select * from {{ sj_raw_rows('idp_registry__individuals') }}
),

named as (
    {{ sj_name_norms('source', 'full') }}
),

renamed as (
    select
        'idp_registry__individuals:' || individual_id as mention_id,
        individual_id as record_key,
        individual_id,
        idp_household_id,
        {{ sj_person_columns('full') }},
        lower(trim(relationship_to_head)) as relationship_to_head,
        {{ sj_phone('phone') }} as phone,
        {{ sj_governorate_code('governorate_of_origin') }} as origin_governorate_code,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_date('displaced_on') }} as displaced_on,
        lower(trim(status)) as displacement_status,
        {{ sj_provenance() }}
    from named
)

select * from renamed
