{#- No published cell breaks the primary rule (a count below k; a rate whose numerator,
    denominator or their difference is below k): the rule applied again to what is shown. -#}
select v.cell_id, v.indicator_code, v.dimension, v.dimension_value
from {{ ref('indicator_values') }} v
join {{ ref('indicator_cells') }} c using (cell_id)
where not v.is_suppressed
  and {{ is_primary_suppressed('c.kind', 'c.numerator', 'c.denominator', 'c.units', 'c.units_numerator', var('disclosure_k')) }}
