{{ config(materialized='view') }}

{#- Households measured by the welfare survey: head's national number, consumption per person and month: the profile's `feeds.welfare_surveys`. -#}
{{ sj_feed_union('welfare_surveys', [
        ('head_national_id', 'varchar', none),
        ('consumption_pc_month', 'decimal(18, 3)', none),
        ('surveyed_on', 'date', none)]) }}
