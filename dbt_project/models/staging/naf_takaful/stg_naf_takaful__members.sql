{{ config(enabled=sj_source_active('naf_takaful')) }}

{{ sj_stg_programme_members('naf_takaful') }}
