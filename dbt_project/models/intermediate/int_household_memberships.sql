{{ config(materialized='table') }}

{#- Which source household (a programme household, a refugee case, a family book or ration
    card) each person mention belongs to, with the relation to its head where the source says:
    the profile's `feeds.household_memberships`. -#}
with members as (
    {{ sj_feed_union('household_memberships', [
        ('mention_id', 'varchar', none), ('source', 'varchar', none), ('household_ref', 'varchar', none),
        ('relation_to_head', 'varchar', 'null')]) }}
)

select * from members
