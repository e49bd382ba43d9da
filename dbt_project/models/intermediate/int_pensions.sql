{{ config(materialized='view') }}

{#- Pensions in payment, before linkage: the profile's `feeds.pensions`. -#}
{{ sj_feed_union('pensions', [
        ('mention_id', 'varchar', none),
        ('pension_no', 'varchar', none),
        ('pension_type', 'varchar', none),
        ('monthly_amount', 'decimal(18, 3)', none),
        ('started_on', 'date', none)]) }}
