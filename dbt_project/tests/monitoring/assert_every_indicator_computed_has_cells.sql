{{ config(meta={'dagster': {'ref': {'name': 'indicator_values'}}}) }}  {#- a Dagster asset check of the published cells -#}
{#- Every indicator that indicator_units counts, that the profile's catalogue lists and that has
    a disaggregation has cells and published values: a table that reads its input as empty (a
    warehouse fault, a join that lost every row) fails here, not in an empty report. -#}
select u.indicator_code
from (select distinct indicator_code from {{ ref('indicator_units') }}) u
where u.indicator_code in (select indicator_code from {{ ref('indicator_catalogue') }})
  and u.indicator_code in (select indicator_code from {{ source('raw', 'ref_indicator_disaggregations') }})
  and (not exists (select 1 from {{ ref('indicator_cells') }} c where c.indicator_code = u.indicator_code)
       or not exists (select 1 from {{ ref('indicator_values') }} v where v.indicator_code = u.indicator_code))
