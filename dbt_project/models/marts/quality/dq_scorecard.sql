{{ config(schema='monitoring', materialized='table', pre_hook="{{ sj_expectation_results_table() }}") }}

-- Data-quality scorecard: per source and per run, the share of rows meeting each dimension's
-- expectations (0–100), timeliness from the delivery cadence, an overall score and the trend.

with results as (
    select * from {{ source('audit', 'expectation_results') }}
    where source is not null
),

scored as (
    select
        run_id, source, dimension, success, severity, evaluated_at, observed_value,
        case
            when dimension = 'timeliness' then case when success then 100.0 else 0.0 end
            when coalesce(element_count, 0) = 0 then case when success then 100.0 else 0.0 end
            else 100.0 * (1 - least(coalesce(unexpected_count, 0), element_count)::double / element_count)
        end as row_score
    from results
),

per_run as (
    select
        run_id,
        source,
        max(evaluated_at) as evaluated_at,
        avg(row_score) filter (where dimension = 'completeness') as completeness,
        avg(row_score) filter (where dimension = 'validity') as validity,
        avg(row_score) filter (where dimension = 'uniqueness') as uniqueness,
        avg(row_score) filter (where dimension = 'consistency') as consistency,
        avg(row_score) filter (where dimension = 'timeliness') as timeliness,
        max(observed_value) filter (where dimension = 'timeliness') as days_since_delivery,
        coalesce(bool_or(not success) filter (where dimension = 'timeliness'), false) as is_stale,
        count(*) as expectations,
        count(*) filter (where not success) as expectations_failed,
        count(*) filter (where not success and severity = 'critical') as blocking_failures
    from scored
    group by run_id, source
),

overall as (
    select
        *,
        (coalesce(completeness, 0) + coalesce(validity, 0) + coalesce(uniqueness, 0)
            + coalesce(consistency, 0) + coalesce(timeliness, 0))
        / nullif((completeness is not null)::int + (validity is not null)::int + (uniqueness is not null)::int
            + (consistency is not null)::int + (timeliness is not null)::int, 0) as overall_score
    from per_run
),

final as (
    select
        run_id,
        source,
        evaluated_at,
        round(completeness, 2) as completeness,
        round(validity, 2) as validity,
        round(uniqueness, 2) as uniqueness,
        round(consistency, 2) as consistency,
        round(timeliness, 2) as timeliness,
        round(days_since_delivery, 2) as days_since_delivery,
        is_stale,
        round(overall_score, 2) as overall_score,
        expectations,
        expectations_failed,
        blocking_failures,
        round(lag(overall_score) over (partition by source order by evaluated_at, run_id), 2) as previous_overall_score,
        round(overall_score - lag(overall_score) over (partition by source order by evaluated_at, run_id), 2)
            as overall_change,
        row_number() over (partition by source order by evaluated_at desc, run_id desc) = 1 as is_latest_run
    from overall
)

select * from final
