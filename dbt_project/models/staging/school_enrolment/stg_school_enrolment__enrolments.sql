{{ config(enabled=sj_source_active('school_enrolment')) }}

with source as (
    select * from {{ sj_raw_rows('school_enrolment__enrolments') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        'school_enrolment__enrolments:' || student_id as mention_id,
        student_id as record_key,
        enrolment_id,
        student_id,
        {{ sj_person_columns('parts') }},
        school_id,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        trim(academic_year) as academic_year,
        try_cast(left(trim(academic_year), 4) as integer) as academic_year_start,
        {{ sj_integer('grade') }} as grade,
        lower(trim(status)) as status,
        {{ sj_provenance() }}
    from named
)

select * from renamed
