{{ config(enabled=sj_source_active('molsa_spn')) }}

{{ sj_stg_programme_members('molsa_spn') }}
