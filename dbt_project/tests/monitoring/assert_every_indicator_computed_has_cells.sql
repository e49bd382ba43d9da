{#- Every indicator indicator_units counts has cells and published values: a table that reads
    its input as empty (a warehouse fault, a join that lost every row) fails here, not in an
    empty report. -#}
select u.indicator_code
from (select distinct indicator_code from {{ ref('indicator_units') }}) u
where not exists (select 1 from {{ ref('indicator_cells') }} c where c.indicator_code = u.indicator_code)
   or not exists (select 1 from {{ ref('indicator_values') }} v where v.indicator_code = u.indicator_code)
