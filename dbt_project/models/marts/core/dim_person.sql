{#- One row per master person. Survivorship follows the profile's `source_trust` order:
    names from the most trusted source (a four-part name beats a shorter one), birth date
    from the most trusted source with a full date (a 1-January placeholder loses), sex by
    majority with trust breaking ties, national number by majority; disability when any
    source records one; refugee status from refugee registration. -#}
with mentions as (
    select
        m.*,
        c.master_person_id,
        {{ source_rank('m.source') }} as source_rank
    from {{ ref('int_person_mentions') }} m
    join {{ source('linkage', 'person_clusters') }} c using (mention_id)
),

names as (
    select master_person_id,
           first_name_norm, father_name_norm, grandfather_name_norm, family_name_norm, source as name_source
    from mentions
    where first_name_norm is not null
    qualify row_number() over (partition by master_person_id
                               order by source_rank, (grandfather_name_norm is null), mention_id) = 1
),

births as (
    select master_person_id, birth_date, source as birth_date_source
    from mentions
    where birth_date is not null
    qualify row_number() over (partition by master_person_id
                               order by birth_date_is_jan1, source_rank, mention_id) = 1
),

sexes as (
    select master_person_id, sex
    from mentions
    where sex is not null
    group by master_person_id, sex
    qualify row_number() over (partition by master_person_id
                               order by count(*) desc, min(source_rank), sex) = 1
),

ids as (
    select master_person_id, national_id
    from mentions
    where national_id is not null
    group by master_person_id, national_id
    qualify row_number() over (partition by master_person_id order by count(*) desc, min(source_rank), national_id) = 1
),

governorates as (
    select master_person_id, governorate_code
    from mentions
    where governorate_code is not null
    qualify row_number() over (partition by master_person_id order by source_rank, mention_id) = 1
),

disability as (
    select c.master_person_id,
           bool_or(coalesce(a.has_disability, false)) as disability_flag,
           max(case a.disability_severity when 'severe' then 3 when 'moderate' then 2 when 'mild' then 1 else 0 end) as severity_rank
    from {{ source('linkage', 'person_clusters') }} c
    left join {{ ref('int_person_attributes') }} a using (mention_id)
    group by c.master_person_id
),

refugees as (
    select c.master_person_id, max(a.refugee_nationality) as nationality
    from {{ ref('int_person_attributes') }} a
    join {{ source('linkage', 'person_clusters') }} c using (mention_id)
    where a.refugee_nationality is not null
    group by c.master_person_id
),

households as (
    select c.master_person_id, h.master_household_id
    from {{ ref('int_household_memberships') }} m
    join {{ source('linkage', 'person_clusters') }} c using (mention_id)
    join {{ source('linkage', 'household_links') }} h on h.source = m.source and h.household_ref = m.household_ref
    qualify row_number() over (partition by c.master_person_id
                               order by {{ source_rank('m.source', 'household_sources') }}) = 1
),

-- Grouped twice instead of count(distinct)/list(distinct … order by), which DuckDB cannot spill:
-- at 3,000,000 persons dim_person ran out of the 4 GB limit, and at 1,000,000 under a 1 GB limit
-- this aggregate was what failed (grouped twice it fits, with the same rows).
persons as (
    select master_person_id, cast(sum(n) as bigint) as records, count(*) as sources_count, list_sort(list(source)) as sources
    from (select master_person_id, source, count(*) as n from mentions group by all)
    group by master_person_id
),

final as (
    select
        p.master_person_id as person_key,
        coalesce(hh.master_household_id, 'unknown') as household_key,
        n.first_name_norm as first_name,
        n.father_name_norm as father_name,
        n.grandfather_name_norm as grandfather_name,
        n.family_name_norm as family_name,
        n.name_source,
        b.birth_date,
        b.birth_date_source,
        date_diff('year', b.birth_date, {{ sj_reference_date() }})
            - case when strftime(b.birth_date, '%m%d') > strftime({{ sj_reference_date() }}, '%m%d') then 1 else 0 end as age,
        s.sex,
        i.national_id,
        coalesce(g.governorate_code, 'unknown') as governorate_code,
        coalesce(d.disability_flag, false) as disability_flag,
        case d.severity_rank when 3 then 'severe' when 2 then 'moderate' when 1 then 'mild' else 'none' end as disability_severity,
        case when r.nationality is not null then 'refugee'
             when i.national_id is not null then 'citizen'
             else 'other_non_citizen' end as refugee_status,
        coalesce(r.nationality, case when i.national_id is not null then '{{ var("nationality_code") }}' end) as nationality,
        p.records,
        p.sources_count,
        p.sources
    from persons p
    left join names n using (master_person_id)
    left join births b using (master_person_id)
    left join sexes s using (master_person_id)
    left join ids i using (master_person_id)
    left join governorates g using (master_person_id)
    left join disability d using (master_person_id)
    left join refugees r using (master_person_id)
    left join households hh using (master_person_id)
)

select * from final
union all
select 'unknown', 'unknown', null, null, null, null, null, null, null, null, null, null, 'unknown', false, 'none',
       'unknown', null, 0, 0, []
