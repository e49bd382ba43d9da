{{ config(materialized='view') }}

{#- Grievances and complaints, before linkage: the profile's `feeds.grievances`. -#}
{{ sj_feed_union('grievances', [
        ('mention_id', 'varchar', none),
        ('grievance_id', 'varchar', none),
        ('governorate_code', 'varchar', none),
        ('programme_code', 'varchar', none),
        ('category', 'varchar', none),
        ('channel', 'varchar', none),
        ('opened_on', 'date', none),
        ('resolved_on', 'date', none),
        ('outcome', 'varchar', none)]) }}
