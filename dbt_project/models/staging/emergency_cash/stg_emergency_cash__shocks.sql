{{ config(enabled=sj_source_active('emergency_cash')) }}

with source as (
    select * from {{ sj_raw_rows('emergency_cash__shocks') }}
),

renamed as (
    select
        shock_id,
        name_en,
        name_ar,
        lower(trim(shock_type)) as shock_type,
        {{ sj_date('declared_on') }} as declared_on,
        list_transform(string_split(affected_governorates, ';'), lambda g: upper(trim(g))) as affected_governorate_codes,
        upper(trim(programme_code)) as programme_code,
        {{ sj_provenance() }}
    from source
)

select * from renamed
