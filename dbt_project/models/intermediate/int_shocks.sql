{{ config(materialized='view') }}

{#- Declared shocks and the programme that responds: the profile's `feeds.shocks`. -#}
{{ sj_feed_union('shocks', [
        ('shock_id', 'varchar', none),
        ('name_en', 'varchar', none),
        ('name_ar', 'varchar', none),
        ('shock_type', 'varchar', none),
        ('declared_on', 'date', none),
        ('affected_governorate_codes', 'varchar[]', none),
        ('programme_code', 'varchar', none)]) }}
