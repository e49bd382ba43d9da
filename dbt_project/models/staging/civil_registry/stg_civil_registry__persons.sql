{{ config(enabled=sj_source_active('civil_registry')) }}

with source as (
    select * from {{ sj_raw_rows('civil_registry__persons') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        'civil_registry__persons:' || named.national_id as mention_id,
        named.national_id as record_key,
        {{ sj_person_columns('parts') }},
        family_book_no,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        mother_name,
        sj_norm_name(mother_name) as mother_name_norm,
        {{ sj_provenance() }}
    from named
)

select * from renamed
