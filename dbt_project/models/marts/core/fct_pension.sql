with pensions as (
    select * from {{ ref('int_pensions') }}
),

final as (
    select
        pension_no,
        coalesce(c.master_person_id, 'unknown') as person_key,
        pension_type,
        monthly_amount,
        started_on
    from pensions p
    left join {{ source('linkage', 'person_clusters') }} c using (mention_id)
)

select * from final
