{{ config(materialized='table') }}

{#- Which source household (NAF household, UNHCR case, civil-registry family book) each
    person mention belongs to, with the relation to its head where the source says. -#}
with members as (
    select mention_id, 'naf_takaful' as source, 'naf:' || household_id as household_ref, relation_to_head
    from {{ ref('stg_naf_takaful__members') }}
    union all
    select mention_id, 'unhcr_refugees', 'unhcr:' || case_number,
           case relationship_to_pa when 'pa' then 'head' when 'spouse' then 'spouse' when 'child' then 'child' else 'other' end
    from {{ ref('stg_unhcr_refugees__individuals') }}
    where case_number is not null
    union all
    select mention_id, 'civil_registry', 'family_book:' || family_book_no, null
    from {{ ref('stg_civil_registry__persons') }}
    where family_book_no is not null
)

select * from members
