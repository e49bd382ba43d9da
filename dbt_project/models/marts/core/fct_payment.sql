{#- Every benefit payment of every source, keyed to master household and person. Keys point to
    the 'unknown' members rather than null, so no payment drops out of a join. -#}
with payments as (
    select p.source, p.source_record_key, p.programme_code,
           coalesce(h.master_household_id, d.household_key) as household_key, c.master_person_id as person_key,
           p.amount, p.period_month, p.due_on, p.paid_on, p.status, p.channel, p.is_top_up, p.shock_id
    from {{ ref('int_payments') }} p
    left join {{ source('linkage', 'household_links') }} h
      on h.source = p.household_source and h.household_ref = p.household_ref
    left join {{ source('linkage', 'person_clusters') }} c on c.mention_id = p.mention_id
    left join {{ ref('dim_person') }} d on d.person_key = c.master_person_id
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
