{#- Building blocks of the monitoring marts: the dimensions every indicator unit carries, age
    groups, and statistical disclosure control. -#}

{% macro indicator_dimensions() -%}
{{ return(['governorate', 'sex', 'age_group', 'age_group_ilo', 'disability', 'disability_severity',
           'refugee_status', 'quintile', 'household_size_band', 'channel', 'category', 'shock']) }}
{%- endmacro %}

{#- One unit row's dimension columns: `values` maps a dimension to a SQL expression; the others are null. -#}
{% macro dimension_columns(values) -%}
{%- for d in indicator_dimensions() -%}
cast({{ values.get(d, 'null') }} as varchar) as {{ d }}{{ ',' if not loop.last }}
{% endfor -%}
{%- endmacro %}

{#- Dimensions of a person unit (alias of a person_periods row). -#}
{% macro person_dimensions(p) -%}
{{ return({'governorate': p ~ '.governorate_code', 'sex': p ~ '.sex', 'age_group': p ~ '.age_group',
           'age_group_ilo': p ~ '.age_group_ilo', 'disability': p ~ '.disability',
           'disability_severity': p ~ '.disability_severity', 'refugee_status': p ~ '.refugee_status',
           'quintile': p ~ '.quintile', 'household_size_band': p ~ '.household_size_band'}) }}
{%- endmacro %}

{#- Dimensions of a household unit: sex and age of the head, disability of any member. -#}
{% macro household_dimensions(h) -%}
{{ return({'governorate': h ~ '.governorate_code', 'sex': h ~ '.head_sex', 'age_group': h ~ '.age_group',
           'age_group_ilo': h ~ '.age_group_ilo', 'disability': h ~ '.disability',
           'refugee_status': h ~ '.refugee_status', 'quintile': h ~ '.quintile',
           'household_size_band': h ~ '.household_size_band'}) }}
{%- endmacro %}

{% macro age_at(birth_date, on_date) -%}
(year({{ on_date }}) - year({{ birth_date }})
 - case when month({{ birth_date }}) * 100 + day({{ birth_date }}) > month({{ on_date }}) * 100 + day({{ on_date }})
        then 1 else 0 end)
{%- endmacro %}

{% macro age_group(age) -%}
case when {{ age }} is null or {{ age }} < 0 then 'unknown' when {{ age }} < 5 then '0-4' when {{ age }} < 18 then '5-17'
     when {{ age }} < 25 then '18-24' when {{ age }} < 60 then '25-59' else '60+' end
{%- endmacro %}

{% macro age_group_ilo(age) -%}
case when {{ age }} is null or {{ age }} < 0 then 'unknown' when {{ age }} < 15 then '0-14'
     when {{ age }} < 65 then '15-64' else '65+' end
{%- endmacro %}

{% macro household_size_band(size) -%}
case when {{ size }} is null then 'unknown' when {{ size }} <= 2 then '1-2' when {{ size }} <= 4 then '3-4'
     when {{ size }} <= 6 then '5-6' else '7+' end
{%- endmacro %}

{#- Primary suppression of one cell (reference/indicators.md, reliability.md): a rate (share) is
    suppressed when its numerator, its denominator or their difference is below k — zero and
    100 % cells included, since either tells every unit's answer; the difference is taken
    absolute, as a numerator from the registry may exceed an external denominator. A count or
    sum is suppressed when it counts 1 to k−1 units (a zero count may be shown); a ratio or
    percentile when it rests on fewer than k units. -#}
{% macro is_primary_suppressed(kind, numerator, denominator, units, units_numerator, k) -%}
case
    when {{ kind }} = 'share' then
        {{ numerator }} < {{ k }} or {{ denominator }} < {{ k }} or abs({{ denominator }} - {{ numerator }}) < {{ k }}
    when {{ kind }} = 'ratio' then
        {{ units }} < {{ k }}
        or ({{ units_numerator }} > 0 and {{ units_numerator }} < {{ k }})
    when {{ kind }} = 'score' then false  {#- an agency's data-quality score: no person is counted #}
    when {{ kind }} in ('sum', 'count') then
        {{ units_numerator }} > 0 and {{ units_numerator }} < {{ k }}
    else {{ units }} < {{ k }}
end
{%- endmacro %}

{#- The select list of a unit of a share indicator: it counts 1 in the denominator, and 1 in the
    numerator when `condition` holds. -#}
{% macro share_unit(code, alias, dimensions, condition) -%}
select '{{ code }}' as indicator_code, {{ alias }}.grain, {{ alias }}.period_start, {{ dimension_columns(dimensions) }},
       case when {{ condition }} then 1.0 else 0.0 end as num, 1.0 as den, null::double as measure
{%- endmacro %}

{#- A numerator unit of a coverage indicator whose denominator comes from the statistics
    office's estimates: 1 in the numerator, nothing in the denominator. -#}
{% macro numerator_unit(code, alias, dimensions) -%}
select '{{ code }}' as indicator_code, {{ alias }}.grain, {{ alias }}.period_start, {{ dimension_columns(dimensions) }},
       1.0 as num, 0.0 as den, null::double as measure
{%- endmacro %}

{#- The denominator rows of a population coverage indicator: the estimated persons of each
    governorate × sex × age band (reference_persons r) that `where` keeps. The estimates carry no
    disability or refugee status, so those disaggregations have no denominator. -#}
{% macro population_denominator(code, where='true') -%}
select '{{ code }}', r.grain, r.period_start,
       {{ dimension_columns({'governorate': 'r.governorate_code', 'sex': 'r.sex', 'age_group': 'r.age_group',
                             'age_group_ilo': 'r.age_group_ilo'}) }},
       0.0, r.persons, null
from reference_persons r
where {{ where }}
{%- endmacro %}

{#- Regular cash social assistance (reference/indicators.md): payments of programmes with sp_type
    SA and benefit_type cash that are not shock response, whatever their status; with `paid`, only
    those paid to a household of the registry. -#}
{% macro regular_cash_payments(paid=false) -%}
    select p.*
    from {{ ref('fct_payment') }} p
    join {{ ref('dim_programme') }} g using (programme_code)
    where g.sp_type = 'SA' and g.benefit_type = 'cash' and not g.is_shock_response
    {%- if paid %} and p.status = 'paid' and p.household_key <> 'unknown'{% endif %}
{%- endmacro %}
