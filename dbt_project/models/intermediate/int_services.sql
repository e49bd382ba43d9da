{{ config(materialized='view') }}

{#- Services persons received (coverage, schooling, cases, referrals), before linkage: the profile's `feeds.services`. -#}
{{ sj_feed_union('services', [
        ('source', 'varchar', none),
        ('source_record_key', 'varchar', none),
        ('mention_id', 'varchar', none),
        ('service_type', 'varchar', none),
        ('programme_code', 'varchar', 'null'),
        ('service_detail', 'varchar', 'null'),
        ('started_on', 'date', none),
        ('ended_on', 'date', none),
        ('outcome', 'varchar', 'null')]) }}
