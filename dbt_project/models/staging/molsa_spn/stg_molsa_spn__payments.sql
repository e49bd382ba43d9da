{{ config(enabled=sj_source_active('molsa_spn')) }}

{{ sj_stg_cash_payments('molsa_spn') }}
