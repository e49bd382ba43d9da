{{ config(materialized='view') }}

{#- Social-insurance contributions per person and month, before linkage: the profile's `feeds.contributions`. -#}
{{ sj_feed_union('contributions', [
        ('mention_id', 'varchar', none),
        ('insured_no', 'varchar', none),
        ('contribution_month', 'date', none),
        ('wage', 'decimal(18, 3)', none),
        ('sector', 'varchar', none),
        ('is_active', 'boolean', none)]) }}
