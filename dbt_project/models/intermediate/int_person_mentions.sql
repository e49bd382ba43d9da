{{ config(materialized='table') }}

{#- Every person record of every source the profile lists under `feeds.person_mentions`. When
    a person appears in several rows of a source (person-month or person-year grain), the
    latest row stands (`latest_by`). -#}
with mentions as (
    {{ sj_feed_union('person_mentions', [
        ('mention_id', 'varchar', none), ('source', 'varchar', none), ('entity', 'varchar', none),
        ('record_key', 'varchar', none), ('household_ref', 'varchar', 'null'), ('national_id', 'varchar', none),
        ('other_id_type', 'varchar', 'null'), ('other_id', 'varchar', 'null'), ('full_name', 'varchar', none),
        ('first_name_norm', 'varchar', none), ('father_name_norm', 'varchar', none),
        ('grandfather_name_norm', 'varchar', none), ('family_name_norm', 'varchar', none),
        ('birth_date', 'date', none), ('sex', 'varchar', none), ('phone', 'varchar', 'null'),
        ('governorate_code', 'varchar', 'null')]) }}
),

features as (
    select
        *,
        sj_translit(first_name_norm) as first_name_translit,
        sj_translit(father_name_norm) as father_name_translit,
        sj_translit(grandfather_name_norm) as grandfather_name_translit,
        sj_translit(family_name_norm) as family_name_translit,
        sj_skeleton(first_name_norm) as first_name_skeleton,
        sj_skeleton(father_name_norm) as father_name_skeleton,
        sj_skeleton(grandfather_name_norm) as grandfather_name_skeleton,
        sj_skeleton(family_name_norm) as family_name_skeleton,
        nullif(concat_ws(' ', first_name_norm, father_name_norm, grandfather_name_norm, family_name_norm), '') as full_name_norm,
        case when regexp_matches(coalesce(first_name_norm, '') || coalesce(family_name_norm, ''), '[ء-ي]')
             then 'ar' else 'latin' end as name_script,
        (month(birth_date) = 1 and day(birth_date) = 1) as birth_date_is_jan1
    from mentions
    where first_name_norm is not null or national_id is not null
)

select * from features
