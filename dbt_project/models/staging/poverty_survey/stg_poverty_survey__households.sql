{{ config(enabled=sj_source_active('poverty_survey')) }}

{{ sj_stg_household_survey('poverty_survey') }}
