{{ config(materialized='view') }}

{#- Every benefit payment of the profile's payment feeds, before linkage: the household it names (household_source, household_ref) or the person record (mention_id), and the file, line and load it came from: the profile's `feeds.payments`. -#}
{{ sj_feed_union('payments', [
        ('source', 'varchar', none),
        ('source_record_key', 'varchar', none),
        ('programme_code', 'varchar', none),
        ('household_source', 'varchar', 'null'),
        ('household_ref', 'varchar', 'null'),
        ('mention_id', 'varchar', 'null'),
        ('amount', 'decimal(18, 3)', none),
        ('period_month', 'date', none),
        ('due_on', 'date', 'null'),
        ('paid_on', 'date', none),
        ('status', 'varchar', none),
        ('channel', 'varchar', 'null'),
        ('is_top_up', 'boolean', 'false'),
        ('shock_id', 'varchar', 'null'),
        ('_source_file', 'varchar', none),
        ('_line_number', 'bigint', none),
        ('_load_id', 'varchar', none)]) }}
