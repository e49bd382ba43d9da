{#- The published indicator table: indicator_cells under statistical disclosure control.
    Primary suppression (macro is_primary_suppressed, k = var disclosure_k), then secondary
    suppression, pass after pass: in every group of indicator_suppression_groups whose parent is
    shown and where exactly one child is hidden, the smallest other child is hidden too (or the
    parent, when there is no other child). A hidden cell has no value, numerator or
    denominator — never a zero — and says why. -#}
{%- set passes = 6 %}
with cells as (
    select *,
           {{ is_primary_suppressed('kind', 'numerator', 'denominator', 'units', 'units_numerator', var('disclosure_k')) }}
             as is_primary
    from {{ ref('indicator_cells') }}
),

groups as (
    select * from {{ ref('indicator_suppression_groups') }}
),

state_0 as (
    select cell_id, coalesce(is_primary, true) as suppressed, coalesce(units, 0) as size from cells
),
{% for i in range(passes) %}
members_{{ i }} as (
    select g.group_id, g.cell_id, g.is_parent, s.suppressed, s.size
    from groups g join state_{{ i }} s using (cell_id)
),

exposed_{{ i }} as (
    select group_id
    from members_{{ i }}
    group by group_id
    having bool_or(is_parent and not suppressed) and count(*) filter (where not is_parent and suppressed) = 1
),

hide_{{ i }} as (
    select cell_id from (
        select m.group_id, m.cell_id
        from members_{{ i }} m join exposed_{{ i }} using (group_id)
        where not m.is_parent and not m.suppressed
        qualify row_number() over (partition by m.group_id order by m.size, m.cell_id) = 1
    )
    union
    select m.cell_id
    from members_{{ i }} m join exposed_{{ i }} e using (group_id)
    where m.is_parent and not exists (select 1 from members_{{ i }} o where o.group_id = e.group_id
                                      and not o.is_parent and not o.suppressed)
),

state_{{ i + 1 }} as (
    select s.cell_id, s.suppressed or h.cell_id is not null as suppressed, s.size
    from state_{{ i }} s left join (select distinct cell_id from hide_{{ i }}) h using (cell_id)
),
{% endfor %}
final as (
    select
        c.cell_id,
        c.indicator_code,
        c.pillar,
        c.grain,
        c.period_start,
        c.period_end,
        c.period_label,
        c.is_complete,
        c.dimension,
        c.dimension_value,
        case when s.suppressed then null else c.numerator end as numerator,
        case when s.suppressed then null else c.denominator end as denominator,
        case when s.suppressed then null else c.value end as value,
        s.suppressed as is_suppressed,
        case when not s.suppressed then null when c.is_primary then 'primary' else 'secondary' end as suppression,
        c.unit,
        c.kind
    from cells c
    join state_{{ passes }} s using (cell_id)
)

select * from final
