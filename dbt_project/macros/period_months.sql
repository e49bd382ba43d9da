{#- The months a run of a monthly-partitioned model builds: [min_period_month, max_period_month).
    Dagster passes them from the partition (or backfill range) as vars; a bare `dbt build`
    builds every month. -#}
{% macro period_month_from() %}'{{ var("min_period_month", "1900-01-01") }}'::date{% endmacro %}
{% macro period_month_to() %}'{{ var("max_period_month", "9999-12-01") }}'::date{% endmacro %}
