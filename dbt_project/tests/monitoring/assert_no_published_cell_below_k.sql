{{ config(meta={'dagster': {'ref': {'name': 'indicator_values'}}}) }}  {#- a Dagster asset check of the published cells -#}
{#- No published cell breaks the primary rule, written out here independently of the macro
    that applies it (reference/reliability.md): a shown rate has numerator, denominator and
    their difference all at least k — so no 0 % or 100 % rate, and no numerator, denominator or
    complement in 1..k−1; a shown count or sum counts 0 or at least k units; a shown ratio or
    percentile rests on at least k units; and what is shown is the cell's own figure. -#}
{%- set k = var('disclosure_k') %}
select v.cell_id, v.indicator_code, v.dimension, v.dimension_value,
       case
           when c.kind = 'share' and (c.numerator is null or c.denominator is null) then 'rate without numerator or denominator'
           when c.kind = 'share' and c.numerator < {{ k }} then 'rate with a numerator below k'
           when c.kind = 'share' and c.denominator < {{ k }} then 'rate with a denominator below k'
           when c.kind = 'share' and abs(c.denominator - c.numerator) < {{ k }} then 'rate with a complement below k'
           when c.kind in ('sum', 'count') and c.units_numerator between 1 and {{ k }} - 1 then 'count of 1 to k-1 units'
           when c.kind in ('ratio', 'quantile') and c.units < {{ k }} then 'ratio or percentile on fewer than k units'
           when c.kind = 'ratio' and c.units_numerator between 1 and {{ k }} - 1 then 'ratio with 1 to k-1 units in the numerator'
           when v.value is distinct from c.value or v.numerator is distinct from c.numerator
                or v.denominator is distinct from c.denominator then 'published figure differs from the cell'
       end as problem
from {{ ref('indicator_values') }} v
join {{ ref('indicator_cells') }} c using (cell_id)
where not v.is_suppressed and problem is not null
