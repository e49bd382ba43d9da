{{ config(enabled=sj_source_active('zakat_charity')) }}

with source as (
    select *, null::varchar as birth_date, null::varchar as sex
    from {{ sj_raw_rows('zakat_charity__aid') }}
),

named as (
    {{ sj_name_norms('source', 'full') }}
),

renamed as (
    select
        'zakat_charity__aid:' || aid_id as mention_id,
        aid_id as record_key,
        aid_id,
        {{ sj_person_columns('full') }},
        {{ sj_phone('phone') }} as phone,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        organisation,
        upper(trim(programme_code)) as programme_code,
        case trim(aid_type) when 'نقدي' then 'cash' when 'عيني' then 'in_kind' end as aid_type,
        {{ sj_amount('amount') }} as amount,
        {{ sj_date('aid_on') }} as aid_on,
        {{ sj_provenance() }}
    from named
)

select * from renamed
