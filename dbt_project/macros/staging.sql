{#- Typing and cleaning rules shared by every staging model. Text macros (sj_*) are DuckDB
    macros installed by the dbt-duckdb plugin assets/text/duckdb_plugin.py. -#}

{% macro sj_date(column) -%}
    {#- The first of the profile's date formats under which the text is a real date between
        1900 and 2100; otherwise null (Hijri-looking years such as 1400 are refused). -#}
    (case when {{ sj_date_any(column) }} between date '1900-01-01' and date '2100-12-31'
    then {{ sj_date_any(column) }} end)
{%- endmacro %}

{% macro sj_date_any(column) -%}
    try_cast(coalesce(
        {%- for fmt in var('date_formats') %}
        try_strptime(trim(sj_digits({{ column }})), '{{ fmt }}'),
        {%- endfor %}
        {{ sj_local_date(column) }}
    ) as date)
{%- endmacro %}

{% macro sj_local_date(column) -%}
    {#- An ISO 8601 timestamp ('2025-01-31 23:30', '2025-01-31T20:30:00Z', '…+03:00') is the
        day it was in the profile's time zone: with an offset or Z it is converted to that zone
        first, so a payment at 23:30 on a month's last day (local) stays in that month whatever
        zone the agency's system wrote it in; without one it is already local time. -#}
    (case when regexp_matches(trim(sj_digits({{ column }})), '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}')
          then case when regexp_matches(trim(sj_digits({{ column }})), '(Z|[+-]\d{2}(:?\d{2})?)$')
                    then cast(timezone('{{ var("timezone") }}', try_cast(trim(sj_digits({{ column }})) as timestamptz)) as date)
                    else cast(try_cast(trim(sj_digits({{ column }})) as timestamp) as date) end
     end)
{%- endmacro %}

{% macro sj_reference_date() -%}
    {#- The run's reference date: Sijil sets SIJIL_RUN_REFERENCE_DATE (SIJIL_REFERENCE_DATE or
        today) for each run; dbt alone, the run's day. An environment variable, not a var, so that
        a new day re-parses only the files that read it. -#}
    cast('{{ env_var("SIJIL_RUN_REFERENCE_DATE", run_started_at.strftime("%Y-%m-%d")) }}' as date)
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
    {#- The national number in the profile's pattern, not one digit repeated (sj_clean_id) and, if
        the profile declares one, with a right check digit (assets/text/check_digits.py); otherwise null. -#}
    {%- if var("national_id_check", "none") == "none" %}
    sj_clean_id({{ column }}, '{{ var("national_id_pattern") }}')
    {%- else %}
    (case when sj_id_check_ok(sj_clean_id({{ column }}, '{{ var("national_id_pattern") }}'), '{{ var("national_id_check") }}')
          then sj_clean_id({{ column }}, '{{ var("national_id_pattern") }}') end)
    {%- endif %}
{%- endmacro %}

{% macro sj_phone(column) -%}
    sj_clean_phone({{ column }}, '{{ var("phone_country_code") }}', '{{ var("phone_pattern") }}')
{%- endmacro %}

{% macro sj_governorate_code(column) -%}
    (select a.code from {{ source('raw', 'ref_governorate_aliases') }} as a
     where a.alias_norm = sj_norm_name({{ column }}))
{%- endmacro %}

{% macro sj_name_norms(relation, names='parts') -%}
    {#- The rows of `relation` (a CTE) with their names normalised: first_name_norm,
        father_name_norm, grandfather_name_norm, family_name_norm. names='parts' normalises the
        four name columns; 'full' splits full_name into the four parts. Each distinct name is
        normalised once, not once per row: the rules are long chains of regular expressions and a
        country's names repeat (a few thousand distinct values across millions of rows). -#}
    {%- set parts = ['first_name', 'father_name', 'grandfather_name', 'family_name'] %}
    {%- if names == 'parts' %}
    with norms as (
        select name, sj_norm_name(name) as norm
        from (select distinct unnest([{{ parts | join(', ') }}]) as name from {{ relation }})
        where name is not null
    )
    select r.*{% for part in parts %}, n{{ loop.index }}.norm as {{ part }}_norm{% endfor %}
    from {{ relation }} r
    {%- for part in parts %}
    left join norms n{{ loop.index }} on n{{ loop.index }}.name = r.{{ part }}
    {%- endfor %}
    {%- else %}
    with norms as (
        select name{% for part in parts %}, sj_name_part(name, {{ loop.index }}) as {{ part }}_norm{% endfor %}
        from (select distinct full_name as name from {{ relation }})
        where name is not null
    )
    select r.*{% for part in parts %}, n.{{ part }}_norm{% endfor %}
    from {{ relation }} r
    left join norms n on n.name = r.full_name
    {%- endif %}
{%- endmacro %}

{% macro sj_person_columns(names='parts') -%}
    {#- Names as written and normalised, birth date, sex and national number of a person row of
        a relation made by sj_name_norms (with the same `names`). -#}
    {%- if names == 'parts' %}
    first_name, father_name, grandfather_name, family_name,
    nullif(concat_ws(' ', first_name, father_name, grandfather_name, family_name), '') as full_name,
    {%- else %}
    full_name,
    {%- endif %}
    first_name_norm, father_name_norm, grandfather_name_norm, family_name_norm,
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

{#- Staging tables are incremental, one row per raw row (models named stg_<raw table>): a
    refresh stages only the rows it does not hold yet. sj_forget_stale_rows (their pre-hook)
    first removes the rows that may no longer be what a full build would make; sj_raw_rows (their
    input) then stages every raw row missing from the table. When the code that makes them
    changes (models, macros, the text functions, the profile), Dagster builds them in full
    (orchestration/dbt.py, `incremental_code_fingerprint`). -#}

{% macro sj_raw_rows(table) -%}
    {#- The rows of raw.<table> to stage: all of them on a full build; on an incremental one,
        those the staging table does not hold (a new delivery's, and the rows forgotten). -#}
    {%- set staged = this is not none %}  {#- a unit test has no `this`, and builds in full #}
    {%- if staged and table != this.identifier[4:] %}
    {{ exceptions.raise_compiler_error("sj_raw_rows: staging model " ~ this.identifier ~ " must be named stg_" ~ table) }}
    {%- endif %}
    (select * from {{ source('raw', table) }} as raw_row
    {%- if staged and is_incremental() %}
     where not exists (select 1 from {{ this }} as staged
                       where staged._load_id = raw_row._load_id and staged._source_file = raw_row._source_file
                         and staged._line_number = raw_row._line_number)
    {%- endif %}) as raw_rows
{%- endmacro %}

{% macro sj_forget_stale_rows() -%}
    {#- Before an incremental build: remove the rows of loads the raw table no longer holds (an
        entity read again whole, a delivery purged) and the rows that depend on the run's
        reference date (a birth date is judged against it: sj_birth_date). -#}
    {%- if is_incremental() %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    delete from {{ this }}
    where _load_id not in (select distinct _load_id from {{ source('raw', this.identifier[4:]) }})
    {%- if 'birth_date_is_invalid' in columns %}
       or birth_date_is_invalid
       or birth_date not between {{ sj_reference_date() }} - interval 120 year and {{ sj_reference_date() }}
    {%- endif %}
    {%- endif %}
{%- endmacro %}
