{{ config(materialized='view') }}

{#- Person records registered as members of a programme's households, for registered-twice cases: the profile's `feeds.programme_memberships`. -#}
{{ sj_feed_union('programme_memberships', [
        ('mention_id', 'varchar', none),
        ('source_record_key', 'varchar', none),
        ('programme_code', 'varchar', none)]) }}
