{{ config(meta={'dagster': {'ref': {'name': 'indicator_values'}}}) }}  {#- a Dagster asset check of the published cells -#}
{#- Secondary suppression is complete: no group has a shown total and exactly one hidden part
    (which the total minus the shown parts would give away); hidden cells show no numbers. -#}
select g.group_id, 'one hidden part beside a shown total' as problem
from {{ ref('indicator_suppression_groups') }} g
join {{ ref('indicator_values') }} v using (cell_id)
group by g.group_id
having bool_or(g.is_parent and not v.is_suppressed) and count(*) filter (where not g.is_parent and v.is_suppressed) = 1
union all
select cell_id, 'a hidden cell shows a number'
from {{ ref('indicator_values') }}
where is_suppressed and (value is not null or numerator is not null or denominator is not null)
