{#- Rows whose score is outside 0–100 (nulls pass: a dimension not measured). -#}
{% test sj_between_0_and_100(model, column_name) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 100
{% endtest %}
