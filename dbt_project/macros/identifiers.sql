{% macro sj_clean_id_of(column, id_type) -%}
    {#- An identifier of one of the profile's identifier types (var `identifier_patterns`, from
        the profile's `identifiers`), cleaned; null when it breaks the type's format. -#}
    sj_clean_id({{ column }}, '{{ var("identifier_patterns", {}).get(id_type, ".*") }}')
{%- endmacro %}
