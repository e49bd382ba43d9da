{{ config(enabled=sj_source_active('health_insurance')) }}

with source as (
    select * from {{ sj_raw_rows('health_insurance__members') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        'health_insurance__members:' || insured_id as mention_id,
        insured_id as record_key,
        insured_id,
        {{ sj_person_columns('parts') }},
        lower(trim(coverage_type)) as coverage_type,
        -- this agency's export names no programme: it runs one
        'CIP_HEALTH' as programme_code,
        {{ sj_date('started_on') }} as started_on,
        {{ sj_date('ended_on') }} as ended_on,
        {{ sj_provenance() }}
    from named
)

select * from renamed
