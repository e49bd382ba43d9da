{% macro person_mention(model, source_name, entity, household_ref='null', other_id_type='null', other_id='null',
                        phone='null', governorate='null', latest_by=none) -%}
    {#- One staging model's person rows in the shape of int_person_mentions. When a person
        appears in several rows (person-month or person-year grain), the latest row stands. -#}
    select
        mention_id,
        '{{ source_name }}' as source,
        '{{ entity }}' as entity,
        record_key,
        {{ household_ref }} as household_ref,
        national_id,
        {{ other_id_type }} as other_id_type,
        {{ other_id }} as other_id,
        full_name,
        first_name_norm, father_name_norm, grandfather_name_norm, family_name_norm,
        birth_date,
        sex,
        {{ phone }} as phone,
        {{ governorate }} as governorate_code
    from {{ ref(model) }}
    {%- if latest_by %}
    qualify row_number() over (partition by mention_id order by {{ latest_by }} desc nulls last) = 1
    {%- endif %}
{%- endmacro %}
