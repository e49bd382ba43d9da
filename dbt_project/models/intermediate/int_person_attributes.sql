{{ config(materialized='view') }}

{#- What sources say about a person record beyond its identity: disability and its severity, refugee nationality: the profile's `feeds.person_attributes`. -#}
{{ sj_feed_union('person_attributes', [
        ('mention_id', 'varchar', none),
        ('has_disability', 'boolean', 'false'),
        ('disability_severity', 'varchar', 'null'),
        ('refugee_nationality', 'varchar', 'null')]) }}
