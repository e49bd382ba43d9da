{{ config(enabled=sj_source_active('naf_takaful')) }}

{{ sj_stg_cash_payments('naf_takaful') }}
