{{ config(enabled=sj_source_active('social_security')) }}

{{ sj_stg_contributions('social_security') }}
