{{ config(materialized='view') }}

{#- Households of the cash programme with their size, proxy-means score and status, before linkage: the profile's `feeds.programme_households`. -#}
{{ sj_feed_union('programme_households', [
        ('household_source', 'varchar', none),
        ('household_ref', 'varchar', none),
        ('household_size', 'integer', none),
        ('pmt_score', 'decimal(18, 3)', 'null'),
        ('status', 'varchar', none),
        ('enrolled_on', 'date', none),
        ('exited_on', 'date', 'null'),
        ('exit_reason', 'varchar', 'null'),
        ('last_updated_on', 'date', 'null'),
        ('head_national_id', 'varchar', none),
        ('governorate_code', 'varchar', none)]) }}
