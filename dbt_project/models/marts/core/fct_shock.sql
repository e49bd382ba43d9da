with shocks as (
    select * from {{ ref('stg_emergency_cash__shocks') }}
),

final as (
    select shock_id, name_en, name_ar, shock_type, declared_on, affected_governorate_codes, programme_code
    from shocks
)

select * from final
