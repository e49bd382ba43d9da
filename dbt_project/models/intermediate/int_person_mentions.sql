{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ sj_forget_changed_mentions() }}") }}

{#- Every person record of every source, with its matching features: macros/person_mentions.sql
    (the records, and how a refresh computes the features of the new and changed ones only). -#}
with mentions as (
    select current_row.*
    from ({{ sj_person_mention_rows() }}) as current_row
    {%- if is_incremental() %}
    where (mention_id, _mention_hash) not in (select (mention_id, _mention_hash) from {{ this }})
    {%- endif %}
),

-- The name keys are computed once per distinct name, not once per row: a country's names
-- repeat (a few thousand distinct values across millions of mentions), and the keys are long
-- chains of regular expressions.
names as (
    select *, sj_loose_skeleton(skeleton) as loose  -- from the skeleton computed once, beside it
    from (
        select name, sj_translit(name) as translit, sj_skeleton(name) as skeleton
        from (
            select distinct unnest([first_name_norm, father_name_norm, grandfather_name_norm, family_name_norm]) as name
            from mentions
        )
        where name is not null
    )
),

features as (
    select
        m.* exclude (_mention_hash) replace (sj_postcode(m.postcode) as postcode),
        sj_place(m.address) as address_translit,
        sj_place(m.locality) as locality_translit,
        sj_place_key(m.locality) as locality_key,
        n1.translit as first_name_translit,
        n2.translit as father_name_translit,
        n3.translit as grandfather_name_translit,
        n4.translit as family_name_translit,
        n1.skeleton as first_name_skeleton,
        n2.skeleton as father_name_skeleton,
        n3.skeleton as grandfather_name_skeleton,
        n4.skeleton as family_name_skeleton,
        n1.loose as first_name_loose,
        n2.loose as father_name_loose,
        n3.loose as grandfather_name_loose,
        n4.loose as family_name_loose,
        nullif(concat_ws(' ', m.first_name_norm, m.father_name_norm, m.grandfather_name_norm, m.family_name_norm), '') as full_name_norm,
        case when regexp_matches(coalesce(m.first_name_norm, '') || coalesce(m.family_name_norm, ''), '[ء-ي]')
             then 'ar' else 'latin' end as name_script,
        (month(m.birth_date) = 1 and day(m.birth_date) = 1) as birth_date_is_jan1,
        m._mention_hash
    from mentions m
    left join names n1 on n1.name = m.first_name_norm
    left join names n2 on n2.name = m.father_name_norm
    left join names n3 on n3.name = m.grandfather_name_norm
    left join names n4 on n4.name = m.family_name_norm
)

select * from features
