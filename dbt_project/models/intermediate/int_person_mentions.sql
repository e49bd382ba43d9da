{{ config(materialized='table') }}

with mentions as (
    {{ person_mention('stg_civil_registry__persons', 'civil_registry', 'persons',
                      household_ref="'family_book:' || family_book_no", governorate='governorate_code') }}
    union all
    {{ person_mention('stg_naf_takaful__members', 'naf_takaful', 'members', household_ref="'naf:' || household_id") }}
    union all
    {{ person_mention('stg_mosd_services__cases', 'mosd_services', 'cases', phone='phone', governorate='governorate_code') }}
    union all
    {{ person_mention('stg_ssc_insured__contributions', 'ssc_insured', 'contributions', latest_by='contribution_month') }}
    union all
    {{ person_mention('stg_ssc_insured__pensions', 'ssc_insured', 'pensions') }}
    union all
    {{ person_mention('stg_labour_programmes__participants', 'labour_programmes', 'participants', phone='phone', governorate='governorate_code') }}
    union all
    {{ person_mention('stg_health_insurance__members', 'health_insurance', 'members') }}
    union all
    {{ person_mention('stg_school_enrolment__enrolments', 'school_enrolment', 'enrolments', governorate='governorate_code', latest_by='academic_year_start') }}
    union all
    {{ person_mention('stg_unhcr_refugees__individuals', 'unhcr_refugees', 'individuals', household_ref="'unhcr:' || case_number",
                      other_id_type="'unhcr_case'", other_id='case_number', phone='phone', governorate='governorate_code') }}
    union all
    {{ person_mention('stg_zakat_charity__aid', 'zakat_charity', 'aid', phone='phone', governorate='governorate_code') }}
    union all
    {{ person_mention('stg_emergency_cash__payments', 'emergency_cash', 'payments', household_ref="'naf:' || naf_household_id",
                      phone='phone', governorate='governorate_code') }}
    union all
    {{ person_mention('stg_grievances__cases', 'grievances', 'cases', phone='phone', governorate='governorate_code') }}
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
