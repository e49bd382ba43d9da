{#- The population estimates can serve as coverage denominators: in every year × governorate ×
    sex the age bands start at 0, follow each other without gap or overlap, end open-ended, and
    no band straddles a limit of the indicators' age groups (0–4, 5–17, 18–24, 25–59, 60+; ILO
    0–14, 15–64, 65+) or the pensionable age — otherwise its persons could not be attributed. -#}
with bands as (
    select *, coalesce(age_to, 150) as last_age,
           lag(age_to) over (partition by year, governorate_code, sex order by age_from) as previous_to,
           row_number() over (partition by year, governorate_code, sex order by age_from) as position,
           row_number() over (partition by year, governorate_code, sex order by age_from desc) as position_from_end
    from {{ ref('ref_population') }}
)

select year, governorate_code, sex, age_from, age_to,
       case
           when age_to < age_from then 'band ends before it starts'
           when position = 1 and age_from <> 0 then 'first band does not start at 0'
           when position > 1 and (previous_to is null or age_from <> previous_to + 1) then 'gap or overlap with the previous band'
           when position_from_end = 1 and age_to is not null then 'last band is not open-ended'
           when {{ age_group('age_from') }} <> {{ age_group('last_age') }} then 'band straddles an age-group limit'
           when {{ age_group_ilo('age_from') }} <> {{ age_group_ilo('last_age') }} then 'band straddles an ILO age-group limit'
           when (age_from >= {{ var('pensionable_age') }}) <> (last_age >= {{ var('pensionable_age') }})
               then 'band straddles the pensionable age'
       end as problem
from bands
where problem is not null
