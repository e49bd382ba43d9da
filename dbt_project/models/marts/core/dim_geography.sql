with governorates as (
    select * from {{ source('raw', 'ref_governorates') }}
),

final as (
    select code as governorate_code, name_en, name_ar, population, households
    from governorates
    union all
    select 'unknown', 'Unknown', 'غير معروف', null, null
)

select * from final
