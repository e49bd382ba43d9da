{#- The months a run of a monthly-partitioned model builds: [min_period_month, max_period_month).
    Dagster passes them from the partition (or backfill range) as vars; a bare `dbt build`
    builds every month. -#}
{% macro period_month_from() %}'{{ var("min_period_month", "1900-01-01") }}'::date{% endmacro %}
{% macro period_month_to() %}'{{ var("max_period_month", "9999-12-01") }}'::date{% endmacro %}

{#- The condition "`column` is one of the run's months", for the rows a run deletes and rebuilds. -#}
{% macro in_run_months(column) %}{{ column }} >= {{ period_month_from() }} and {{ column }} < {{ period_month_to() }}{% endmacro %}

{#- The pre-hook of a monthly model: an incremental run first deletes the rows of its months. -#}
{% macro delete_run_months(column) %}{% if is_incremental() %}delete from {{ this }} where {{ in_run_months(column) }}{% endif %}{% endmacro %}
