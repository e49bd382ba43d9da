{#- The profile's feeds: which staging models fill which conformed role. The profile lists,
    per role, the staging models and how each one's columns map onto the role's columns
    (`columns: {role column: SQL expression over the staging model}`; a key of the feed named
    like a role column, such as `source: civil_registry`, is that text; a role column the feed
    does not map is read from the staging column of the same name, or is the role's default).
    orchestration/dbt.py passes them as the var `feeds`; refs are resolved at parse time, so
    each intermediate union depends on exactly the active profile's staging models. -#}

{% macro sj_feeds(role) -%}
    {{ return(var('feeds', {}).get(role, []) or []) }}
{%- endmacro %}

{% macro sj_feed_union(role, columns) -%}
    {#- One select per feed of `role`, unioned, every column cast to the role's type.
        `columns` is a list of (name, type, default): default none reads the staging column of
        the same name, a string is the SQL used when the feed maps nothing. A role without
        feeds is an empty relation with the same columns. -#}
    {%- set feeds = sj_feeds(role) %}
    {%- for feed in feeds %}
    {%- set mapped = feed.get('columns', {}) or {} %}
    select
        {%- for name, type, default in columns %}
        {%- if name in mapped %}{% set expr = mapped[name] %}
        {%- elif name in feed and name not in ('model', 'columns', 'where', 'latest_by', 'latest_partition') %}{% set expr = "'" ~ feed[name] ~ "'" %}
        {%- elif default is none %}{% set expr = name %}
        {%- else %}{% set expr = default %}{% endif %}
        cast({{ expr }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(feed['model']) }}
    {%- if feed.get('where') %}
    where {{ feed['where'] }}
    {%- endif %}
    {%- if feed.get('latest_by') %}
    qualify row_number() over (partition by {{ feed.get('latest_partition', 'mention_id') }}
                               order by {{ feed['latest_by'] }} desc nulls last) = 1
    {%- endif %}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not feeds %}
    select
        {%- for name, type, default in columns %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
{%- endmacro %}

{% macro sj_sql_list(values) -%}
    {#- A list of texts as an SQL list, ('a', 'b'); an empty list matches nothing. -#}
    ({%- for v in values %}'{{ v }}'{{ ", " if not loop.last }}{%- endfor %}{%- if not values %}null{%- endif %})
{%- endmacro %}

{% macro sj_source_active(source_name) -%}
    {#- A staging model is built when its source is one of the active profile's sources (the var
        `sources`, from the profile); a bare dbt call without the var parses every model. -#}
    {{ return(var('sources', none) is none or source_name in var('sources')) }}
{%- endmacro %}
