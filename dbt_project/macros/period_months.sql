{#- The months a run of a monthly-partitioned model builds: [from, to). Dagster sets them from the
    partition (or backfill range) in SIJIL_RUN_MONTH_FROM and SIJIL_RUN_MONTH_TO (environment
    variables, not vars: a new month re-parses only the files that read them); a bare
    `dbt build` builds every month. -#}
{% macro period_month_from() %}'{{ env_var("SIJIL_RUN_MONTH_FROM", "1900-01-01") }}'::date{% endmacro %}
{% macro period_month_to() %}'{{ env_var("SIJIL_RUN_MONTH_TO", "9999-12-01") }}'::date{% endmacro %}

{#- The condition "`column` is one of the run's months", for the rows a run deletes and rebuilds. -#}
{% macro in_run_months(column) %}{{ column }} >= {{ period_month_from() }} and {{ column }} < {{ period_month_to() }}{% endmacro %}

{#- The pre-hook of a monthly model: an incremental run first deletes the rows of its months. -#}
{% macro delete_run_months(column) %}{% if is_incremental() %}delete from {{ this }} where {{ in_run_months(column) }}{% endif %}{% endmacro %}
