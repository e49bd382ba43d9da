{{ config(enabled=sj_source_active('ssc_insured')) }}

{{ sj_stg_pensions('ssc_insured') }}
