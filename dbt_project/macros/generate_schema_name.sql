{#- Models land in the schema their folder names (staging, intermediate, core, monitoring),
    not in "<target>_<schema>": the warehouse's schemas are its layers. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
