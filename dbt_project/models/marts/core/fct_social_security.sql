with contributions as (
    select * from {{ ref('int_contributions') }}
),

final as (
    select
        md5(insured_no || ':' || cast(contribution_month as varchar)) as contribution_key,
        coalesce(c.master_person_id, 'unknown') as person_key,
        contribution_month,
        wage,
        sector,
        is_active
    from contributions s
    left join {{ source('linkage', 'person_clusters') }} c using (mention_id)
)

select * from final
