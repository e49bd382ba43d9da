with shocks as (
    select * from {{ ref('int_shocks') }}
),

final as (
    select shock_id, name_en, name_ar, shock_type, declared_on, affected_governorate_codes, programme_code
    from shocks
)

select * from final
