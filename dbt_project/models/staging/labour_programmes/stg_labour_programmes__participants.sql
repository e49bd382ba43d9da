{{ config(enabled=sj_source_active('labour_programmes')) }}

with source as (
    select * from {{ sj_raw_rows('labour_programmes__participants') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        'labour_programmes__participants:' || participant_id as mention_id,
        participant_id as record_key,
        participant_id,
        {{ sj_person_columns('parts') }},
        {{ sj_phone('phone') }} as phone,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        upper(trim(programme_code)) as programme_code,
        {{ sj_date('started_on') }} as started_on,
        {{ sj_date('ended_on') }} as ended_on,
        lower(trim(outcome)) as outcome,
        {{ sj_date('placed_on') }} as placed_on,
        {{ sj_provenance() }}
    from named
)

select * from renamed
