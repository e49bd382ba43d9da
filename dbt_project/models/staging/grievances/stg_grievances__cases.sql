{{ config(enabled=sj_source_active('grievances')) }}

with source as (
    select *, null::varchar as birth_date, null::varchar as sex
    from {{ sj_raw_rows('grievances__cases') }}
),

named as (
    {{ sj_name_norms('source', 'full') }}
),

renamed as (
    select
        'grievances__cases:' || grievance_id as mention_id,
        grievance_id as record_key,
        grievance_id,
        {{ sj_person_columns('full') }},
        {{ sj_phone('phone') }} as phone,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        upper(trim(programme_code)) as programme_code,
        lower(trim(category)) as category,
        lower(trim(channel)) as channel,
        {{ sj_date('opened_on') }} as opened_on,
        {{ sj_date('resolved_on') }} as resolved_on,
        lower(trim(outcome)) as outcome,
        description,
        {{ sj_provenance() }}
    from named
)

select * from renamed
