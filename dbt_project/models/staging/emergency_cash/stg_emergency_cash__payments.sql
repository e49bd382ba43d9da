{{ config(enabled=sj_source_active('emergency_cash')) }}

with source as (
    select *, null::varchar as birth_date, null::varchar as sex
    from {{ sj_raw_rows('emergency_cash__payments') }}
),

named as (
    {{ sj_name_norms('source', 'full') }}
),

renamed as (
    select
        'emergency_cash__payments:' || payment_id as mention_id,
        payment_id as record_key,
        payment_id,
        shock_id,
        upper(trim(programme_code)) as programme_code,
        naf_household_id,
        {{ sj_person_columns('full') }},
        {{ sj_phone('phone') }} as phone,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_amount('amount') }} as amount,
        {{ sj_bool('is_top_up') }} as is_top_up,
        {{ sj_date('paid_on') }} as paid_on,
        lower(trim(status)) as status,
        {{ sj_provenance() }}
    from named
)

select * from renamed
