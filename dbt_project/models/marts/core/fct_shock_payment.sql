{#- Emergency payments against the shock they answered: days from declaration to payment, and
    whether the household was already paid by a regular cash programme in the 3 months before. -#}
with payments as (
    select * from {{ ref('fct_payment') }} where shock_id is not null
),

shocks as (
    select * from {{ ref('fct_shock') }}
),

regular as (
    select distinct p.household_key, s.shock_id
    from {{ ref('fct_payment') }} p
    join {{ ref('dim_programme') }} g using (programme_code)
    cross join shocks s
    where not g.is_shock_response and p.status = 'paid' and p.household_key <> 'unknown'
      and p.paid_on >= s.declared_on - interval 3 month and p.paid_on < s.declared_on
),

final as (
    select
        p.payment_key,
        p.shock_id,
        p.household_key,
        p.person_key,
        p.programme_code,
        p.amount,
        p.status,
        p.paid_on,
        s.declared_on,
        date_diff('day', s.declared_on, p.paid_on) as days_to_payment,
        r.household_key is not null as was_existing_beneficiary,
        p.is_top_up
    from payments p
    join shocks s using (shock_id)
    left join regular r on r.household_key = p.household_key and r.shock_id = p.shock_id
)

select * from final
