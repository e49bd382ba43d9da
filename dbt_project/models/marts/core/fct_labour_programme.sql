with participants as (
    select * from {{ ref('int_labour_participants') }}
),

final as (
    select
        participant_id,
        coalesce(c.master_person_id, 'unknown') as person_key,
        coalesce(p.programme_code, 'unknown') as programme_code,
        started_on,
        ended_on,
        outcome,
        placed_on,
        outcome = 'placed' as is_placed
    from participants p
    left join {{ source('linkage', 'person_clusters') }} c using (mention_id)
)

select * from final
