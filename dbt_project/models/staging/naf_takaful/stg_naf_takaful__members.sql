with source as (
    select * from {{ source('raw', 'naf_takaful__members') }}
),

renamed as (
    select
        'naf_takaful__members:' || member_id as mention_id,
        member_id as record_key,
        member_id,
        household_id,
        {{ sj_person_columns('parts') }},
        lower(trim(relation_to_head)) as relation_to_head,
        {{ sj_bool('has_disability') }} as has_disability,
        {{ sj_provenance() }}
    from source
)

select * from renamed
