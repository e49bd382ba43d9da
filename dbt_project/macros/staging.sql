{#- Typing and cleaning rules shared by every staging model. Text macros (sj_*) are DuckDB
    macros installed by the dbt-duckdb plugin assets/text/duckdb_plugin.py. -#}

{% macro sj_date(column) -%}
    {#- The first of the profile's date formats under which the text is a real date between
        1900 and 2100; otherwise null (Hijri-looking years such as 1400 are refused). -#}
    (case when try_cast(coalesce(
        {%- for fmt in var('date_formats') %}
        try_strptime(trim(sj_digits({{ column }})), '{{ fmt }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as date) between date '1900-01-01' and date '2100-12-31'
    then try_cast(coalesce(
        {%- for fmt in var('date_formats') %}
        try_strptime(trim(sj_digits({{ column }})), '{{ fmt }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as date) end)
{%- endmacro %}

{% macro sj_reference_date() -%}
    {#- The run's reference date (Sijil passes SIJIL_REFERENCE_DATE or today; dbt alone: the run's day). -#}
    cast('{{ var("reference_date", run_started_at.strftime("%Y-%m-%d")) }}' as date)
{%- endmacro %}

{% macro sj_birth_date(column) -%}
    {#- A birth date is a date no later than the reference date and at most 120 years before it. -#}
    (case when {{ sj_date(column) }} between {{ sj_reference_date() }} - interval 120 year and {{ sj_reference_date() }}
          then {{ sj_date(column) }} end)
{%- endmacro %}

{% macro sj_invalid(column, typed) -%}
    (nullif(trim({{ column }}), '') is not null and {{ typed }} is null)
{%- endmacro %}

{% macro sj_month(column) -%}
    try_cast(try_strptime(trim(sj_digits({{ column }})) || '-01', '%Y-%m-%d') as date)
{%- endmacro %}

{% macro sj_amount(column) -%}
    try_cast(trim(sj_digits({{ column }})) as decimal(18, 3))
{%- endmacro %}

{% macro sj_integer(column) -%}
    try_cast(trim(sj_digits({{ column }})) as integer)
{%- endmacro %}

{% macro sj_bool(column) -%}
    (case when lower(trim({{ column }})) in ('1', 'true', 'yes', 'y', 't', 'نعم') then true
          when lower(trim({{ column }})) in ('0', 'false', 'no', 'n', 'f', 'لا') then false end)
{%- endmacro %}

{% macro sj_sex(column) -%}
    (case when lower(trim({{ column }})) in ('m', 'male', 'ذكر', 'ذ') then 'M'
          when lower(trim({{ column }})) in ('f', 'female', 'أنثى', 'انثى', 'انثي', 'أ') then 'F' end)
{%- endmacro %}

{% macro sj_national_id(column) -%}
    sj_clean_id({{ column }}, '{{ var("national_id_pattern") }}')
{%- endmacro %}

{% macro sj_phone(column) -%}
    sj_clean_phone({{ column }}, '{{ var("phone_country_code") }}', '{{ var("phone_pattern") }}')
{%- endmacro %}

{% macro sj_governorate_code(column) -%}
    (select a.code from {{ source('raw', 'ref_governorate_aliases') }} as a
     where a.alias_norm = sj_norm_name({{ column }}))
{%- endmacro %}

{% macro sj_person_columns(names='parts') -%}
    {#- Names as written and normalised, birth date, sex and national number of a person row.
        names='parts' for four name columns; 'full' splits full_name into the four parts. -#}
    {%- if names == 'parts' %}
    first_name, father_name, grandfather_name, family_name,
    nullif(concat_ws(' ', first_name, father_name, grandfather_name, family_name), '') as full_name,
    sj_norm_name(first_name) as first_name_norm,
    sj_norm_name(father_name) as father_name_norm,
    sj_norm_name(grandfather_name) as grandfather_name_norm,
    sj_norm_name(family_name) as family_name_norm,
    {%- else %}
    full_name,
    sj_name_part(full_name, 1) as first_name_norm,
    sj_name_part(full_name, 2) as father_name_norm,
    sj_name_part(full_name, 3) as grandfather_name_norm,
    sj_name_part(full_name, 4) as family_name_norm,
    {%- endif %}
    {{ sj_birth_date('birth_date') }} as birth_date,
    {{ sj_invalid('birth_date', sj_birth_date('birth_date')) }} as birth_date_is_invalid,
    {{ sj_sex('sex') }} as sex,
    {{ sj_national_id('national_id') }} as national_id,
    {{ sj_invalid('national_id', sj_national_id('national_id')) }} as national_id_is_invalid
{%- endmacro %}

{% macro sj_provenance() -%}
    _source_file, _line_number, _load_id
{%- endmacro %}

{% macro source_rank(column, order_var='source_trust') -%}
    {#- Position of a source in one of the profile's ordered source lists (unlisted last). -#}
    (case {{ column }}
        {%- for source in var(order_var) %}
        when '{{ source }}' then {{ loop.index }}
        {%- endfor %}
        else 99 end)
{%- endmacro %}
