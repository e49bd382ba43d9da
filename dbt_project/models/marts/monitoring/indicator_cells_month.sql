{#- The month cells of every indicator, partitioned by month (tag `monthly`): the same cells as
    indicator_cells' month rows, computed from indicator_units for the run's months only. A
    partition or a backfill range deletes its months and inserts them again; every other month
    stays as it was. Before disclosure control: engineering warehouse only. -#}
{{ config(pre_hook="{{ delete_run_months('period_start') }}") }}

{{ indicator_cells_of("grain = 'month' and " ~ in_run_months('period_start')) }}
