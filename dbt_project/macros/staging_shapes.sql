{#- Staging shapes that several agencies' entities share (a cash programme's payments and
    members, a welfare survey, social-insurance contributions and pensions): one body each,
    called by each source's staging model with its source name. -#}

{% macro sj_stg_cash_payments(source_name) -%}
    {#- Monthly payments of a cash programme, typed and normalised. -#}
with source as (
    select * from {{ sj_raw_rows(source_name ~ '__payments') }}
),

renamed as (
    select
        payment_id,
        household_id,
        upper(trim(programme_code)) as programme_code,
        {{ sj_month('period_month') }} as period_month,
        {{ sj_amount('amount') }} as amount,
        {{ sj_date('due_on') }} as due_on,
        {{ sj_date('paid_on') }} as paid_on,
        {{ sj_invalid('paid_on', sj_date('paid_on')) }} as paid_on_is_invalid,
        lower(trim(status)) as status,
        lower(trim(channel)) as channel,
        {{ sj_provenance() }}
    from source
)

select * from renamed
{%- endmacro %}

{% macro sj_stg_programme_members(source_name) -%}
    {#- Members of a cash programme's households, typed and normalised. -#}
with source as (
    select * from {{ sj_raw_rows(source_name ~ '__members') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        '{{ source_name }}__members:' || member_id as mention_id,
        member_id as record_key,
        member_id,
        household_id,
        {{ sj_person_columns('parts') }},
        lower(trim(relation_to_head)) as relation_to_head,
        {{ sj_bool('has_disability') }} as has_disability,
        {{ sj_provenance() }}
    from named
)

select * from renamed
{%- endmacro %}

{% macro sj_stg_household_survey(source_name) -%}
    {#- Households of a welfare survey, typed and normalised. -#}
with source as (
    select * from {{ sj_raw_rows(source_name ~ '__households') }}
),

renamed as (
    select
        survey_household_id,
        {{ sj_national_id('head_national_id') }} as head_national_id,
        {{ sj_governorate_code('governorate') }} as governorate_code,
        {{ sj_integer('household_size') }} as household_size,
        {{ sj_amount('consumption_pc_month') }} as consumption_pc_month,
        {{ sj_date('surveyed_on') }} as surveyed_on,
        {{ sj_amount('sample_weight') }} as sample_weight,
        {{ sj_provenance() }}
    from source
)

select * from renamed
{%- endmacro %}

{% macro sj_stg_contributions(source_name) -%}
    {#- Social-insurance contributions per person and month, typed and normalised. -#}
with source as (
    select * from {{ sj_raw_rows(source_name ~ '__contributions') }}
),

named as (
    {{ sj_name_norms('source', 'full') }}
),

renamed as (
    select
        '{{ source_name }}__contributions:' || insured_no as mention_id,
        insured_no as record_key,
        insured_no,
        {{ sj_person_columns('full') }},
        {{ sj_month('contribution_month') }} as contribution_month,
        {{ sj_amount('wage') }} as wage,
        lower(trim(sector)) as sector,
        {{ sj_bool('is_active') }} as is_active,
        {{ sj_provenance() }}
    from named
)

select * from renamed
{%- endmacro %}

{% macro sj_stg_pensions(source_name) -%}
    {#- Pensions in payment, typed and normalised. -#}
with source as (
    select * from {{ sj_raw_rows(source_name ~ '__pensions') }}
),

named as (
    {{ sj_name_norms('source', 'full') }}
),

renamed as (
    select
        '{{ source_name }}__pensions:' || pension_no as mention_id,
        pension_no as record_key,
        pension_no,
        {{ sj_person_columns('full') }},
        lower(trim(pension_type)) as pension_type,
        {{ sj_amount('monthly_amount') }} as monthly_amount,
        {{ sj_date('started_on') }} as started_on,
        {{ sj_provenance() }}
    from named
)

select * from renamed
{%- endmacro %}
