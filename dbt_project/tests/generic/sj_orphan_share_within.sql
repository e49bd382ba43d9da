{#- Sources whose orphan rows (the tested model, one row per orphan with a `source` column) are
    more than `max_share` of their rows in `of` (default: the profile's orphan_payment_max_share).
    Each failing row says the source, the counts and the share; none names a person. -#}
{% test sj_orphan_share_within(model, of, max_share=none) %}
{%- set limit = max_share if max_share is not none else var('orphan_payment_max_share') %}
with orphans as (
    select source, count(*) as orphans from {{ model }} group by source
),

totals as (
    select source, count(*) as total_rows from {{ of }} group by source
)

select t.source, coalesce(o.orphans, 0) as orphans, t.total_rows,
       coalesce(o.orphans, 0)::double / t.total_rows as orphan_share, {{ limit }} as max_share
from totals t
left join orphans o using (source)
where coalesce(o.orphans, 0) > {{ limit }} * t.total_rows
{% endtest %}
