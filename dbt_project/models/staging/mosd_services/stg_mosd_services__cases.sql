{{ config(enabled=sj_source_active('mosd_services')) }}

with source as (
    select * from {{ sj_raw_rows('mosd_services__cases') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        'mosd_services__cases:' || case_id as mention_id,
        case_id as record_key,
        case_id,
        {{ sj_person_columns('parts') }},
        {{ sj_phone('phone') }} as phone,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        lower(trim(service_type)) as service_type,
        upper(trim(programme_code)) as programme_code,
        lower(trim(disability_severity)) as disability_severity,
        {{ sj_date('opened_on') }} as opened_on,
        {{ sj_date('closed_on') }} as closed_on,
        {{ sj_invalid('closed_on', sj_date('closed_on')) }} as closed_on_is_invalid,
        lower(trim(outcome)) as outcome,
        {{ sj_provenance() }}
    from named
)

select * from renamed
