{{ config(materialized='view') }}

{#- Participants of employment and training programmes, before linkage: the profile's `feeds.labour_participants`. -#}
{{ sj_feed_union('labour_participants', [
        ('mention_id', 'varchar', none),
        ('participant_id', 'varchar', none),
        ('programme_code', 'varchar', none),
        ('started_on', 'date', none),
        ('ended_on', 'date', none),
        ('outcome', 'varchar', none),
        ('placed_on', 'date', none)]) }}
