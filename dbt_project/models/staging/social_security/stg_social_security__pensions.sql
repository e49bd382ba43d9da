{{ config(enabled=sj_source_active('social_security')) }}

{{ sj_stg_pensions('social_security') }}
