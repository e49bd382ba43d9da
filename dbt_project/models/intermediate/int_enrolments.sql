{{ config(materialized='view') }}

{#- Enrolments of households (household_source, household_ref) and persons (mention_id) in programmes, before linkage: the profile's `feeds.enrolments`. -#}
{{ sj_feed_union('enrolments', [
        ('source', 'varchar', none),
        ('source_record_key', 'varchar', none),
        ('household_source', 'varchar', 'null'),
        ('household_ref', 'varchar', 'null'),
        ('mention_id', 'varchar', 'null'),
        ('programme_code', 'varchar', none),
        ('started_on', 'date', none),
        ('ended_on', 'date', none),
        ('status', 'varchar', none),
        ('exit_reason', 'varchar', 'null')]) }}
