{% macro sj_expectation_results_table() -%}
    {#- audit.expectation_results, written by the data-quality checks (quality/results.py holds the
        same definition); created here too so the scorecard builds before any check has run. -#}
    create schema if not exists audit;
    create table if not exists audit.expectation_results (
        run_id varchar, asset varchar, suite varchar, source varchar, expectation varchar, rule varchar,
        "column" varchar, dimension varchar, success boolean, observed_value double, unexpected_count bigint,
        element_count bigint, severity varchar, evaluated_at timestamp
    )
{%- endmacro %}
