{#- Every benefit payment of every source, keyed to master household and person. Keys point to
    the 'unknown' members rather than null, so no payment drops out of a join. -#}
with cash_programme as (
    select 'naf_takaful' as source, p.payment_id as source_record_key, p.programme_code,
           h.master_household_id as household_key, null::varchar as person_key,
           p.amount, p.period_month, p.due_on, p.paid_on, p.status, p.channel, false as is_top_up, null::varchar as shock_id
    from {{ ref('stg_naf_takaful__payments') }} p
    left join {{ source('linkage', 'household_links') }} h
      on h.source = 'naf_takaful' and h.household_ref = 'naf:' || p.household_id
),

voluntary as (
    select 'zakat_charity', a.aid_id, a.programme_code, d.household_key, c.master_person_id,
           a.amount, date_trunc('month', a.aid_on)::date, a.aid_on, a.aid_on, 'paid', a.aid_type, false, null
    from {{ ref('stg_zakat_charity__aid') }} a
    left join {{ source('linkage', 'person_clusters') }} c using (mention_id)
    left join {{ ref('dim_person') }} d on d.person_key = c.master_person_id
),

emergency as (
    select 'emergency_cash', e.payment_id, e.programme_code,
           coalesce(h.master_household_id, d.household_key), c.master_person_id,
           e.amount, date_trunc('month', e.paid_on)::date, null::date, e.paid_on, e.status, null, coalesce(e.is_top_up, false), e.shock_id
    from {{ ref('stg_emergency_cash__payments') }} e
    left join {{ source('linkage', 'person_clusters') }} c using (mention_id)
    left join {{ ref('dim_person') }} d on d.person_key = c.master_person_id
    left join {{ source('linkage', 'household_links') }} h
      on h.source = 'naf_takaful' and h.household_ref = 'naf:' || e.naf_household_id
),

payments as (
    select * from cash_programme
    union all select * from voluntary
    union all select * from emergency
),

final as (
    select
        md5(p.source || ':' || p.source_record_key) as payment_key,
        p.source,
        p.source_record_key,
        coalesce(pr.programme_code, 'unknown') as programme_code,
        coalesce(hh.household_key, 'unknown') as household_key,
        coalesce(pe.person_key, 'unknown') as person_key,
        p.amount,
        p.period_month,
        p.due_on,
        p.paid_on,
        p.status,
        p.channel,
        p.is_top_up,
        p.shock_id
    from payments p
    left join {{ ref('dim_programme') }} pr on pr.programme_code = p.programme_code
    left join {{ ref('dim_household') }} hh on hh.household_key = p.household_key
    left join {{ ref('dim_person') }} pe on pe.person_key = p.person_key
)

select * from final
