{#- The totals a published cell could be recovered from, as groups of one parent and its
    children: the national value and the categories of each disaggregation (one-way tables);
    and, for indicators additive over time, a year and its quarters or months, a quarter and its
    months. Secondary suppression works on these groups. -#}
with cells as (
    select * from {{ ref('indicator_cells') }}
),

catalogue as (
    select indicator_code, additive_over_time from {{ ref('indicator_catalogue') }}
),

dimension_children as (
    select cell_id, indicator_code || '|' || grain || '|' || cast(period_start as varchar) || '|' || dimension as group_id,
           false as is_parent
    from cells
    where dimension <> 'national'
),

parents as (
    select distinct n.cell_id, c.indicator_code || '|' || c.grain || '|' || cast(c.period_start as varchar) || '|' || c.dimension as group_id,
           true as is_parent
    from cells n
    join (select distinct indicator_code, grain, period_start, dimension from cells where dimension <> 'national') c
      on c.indicator_code = n.indicator_code and c.grain = n.grain and c.period_start = n.period_start
    where n.dimension = 'national'
),

nested as (
    select parent.cell_id as parent_id, child.cell_id as child_id,
           'time|' || parent.cell_id || '|' || child.grain as group_id
    from cells parent
    join catalogue k using (indicator_code)
    join cells child
      on child.indicator_code = parent.indicator_code and child.dimension = parent.dimension
     and child.dimension_value = parent.dimension_value
     and ((parent.grain = 'year' and child.grain in ('quarter', 'month')) or (parent.grain = 'quarter' and child.grain = 'month'))
     and cast(date_trunc(parent.grain, child.period_start) as date) = parent.period_start
    where k.additive_over_time
),

final as (
    select cell_id, group_id, is_parent from dimension_children
    union all select cell_id, group_id, is_parent from parents
    union all select distinct parent_id, group_id, true from nested
    union all select child_id, group_id, false from nested
)

select * from final
