with grievances as (
    select * from {{ ref('int_grievances') }}
),

final as (
    select
        g.grievance_id,
        coalesce(c.master_person_id, 'unknown') as person_key,
        coalesce(g.governorate_code, 'unknown') as governorate_code,
        coalesce(g.programme_code, 'unknown') as programme_code,
        g.category,
        g.channel,
        g.opened_on,
        g.resolved_on,
        g.outcome,
        date_diff('day', g.opened_on, g.resolved_on) as days_to_resolve
    from grievances g
    left join {{ source('linkage', 'person_clusters') }} c using (mention_id)
)

select * from final
