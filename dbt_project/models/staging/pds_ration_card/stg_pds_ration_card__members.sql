{#- Members carry the governorate of their ration card (the family's food agent's governorate):
    the card file holds it once per family. A row depends on another table's rows, so this model
    is a table built whole, not staged row by row like the other staging models. -#}
{{ config(enabled=sj_source_active('pds_ration_card'), materialized='table') }}
with source as (
    select * from {{ source('raw', 'pds_ration_card__members') }}
),

families as (
    select ration_card_no, governorate_code from {{ ref('stg_pds_ration_card__families') }}
),

named as (
    {{ sj_name_norms('source', 'parts') }}
),

renamed as (
    select
        'pds_ration_card__members:' || member_id as mention_id,
        member_id as record_key,
        member_id,
        {{ sj_clean_id_of('ration_card_no', 'ration_card') }} as ration_card_no,
        {{ sj_clean_id_of('civil_id', 'civil_id') }} as civil_id,
        {{ sj_invalid('civil_id', sj_clean_id_of('civil_id', 'civil_id')) }} as civil_id_is_invalid,
        {{ sj_person_columns('parts') }},
        lower(trim(relation_to_head)) as relation_to_head,
        {{ sj_provenance() }}
    from named
)

select r.*, f.governorate_code
from renamed r
left join families f using (ration_card_no)
