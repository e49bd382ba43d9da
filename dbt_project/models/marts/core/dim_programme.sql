with programmes as (
    select * from {{ source('raw', 'ref_programmes') }}
),

final as (
    select
        programme_code,
        name_en,
        name_ar,
        agency_code,
        pillar,
        sp_type,
        benefit_type,
        benefit_kind,
        cast(is_shock_response as boolean) as is_shock_response,
        nullif(exclusivity_group, '') as exclusivity_group,
        try_cast(max_amount_per_payment as decimal(18, 3)) as max_amount_per_payment,
        try_cast(start_on as date) as start_on
    from programmes
    union all
    select 'unknown', 'Unknown programme', 'برنامج غير معروف', null, null, null, null, null, false, null, null, null
)

select * from final
