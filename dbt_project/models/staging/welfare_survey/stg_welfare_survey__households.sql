{{ config(enabled=sj_source_active('welfare_survey')) }}

{{ sj_stg_household_survey('welfare_survey') }}
