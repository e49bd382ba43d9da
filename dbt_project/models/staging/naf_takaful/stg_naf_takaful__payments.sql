with source as (
    select * from {{ source('raw', 'naf_takaful__payments') }}
),

renamed as (
    select
        payment_id,
        household_id,
        upper(trim(programme_code)) as programme_code,
        {{ sj_month('period_month') }} as period_month,
        {{ sj_amount('amount') }} as amount,
        {{ sj_date('due_on') }} as due_on,
        {{ sj_date('paid_on') }} as paid_on,
        {{ sj_invalid('paid_on', sj_date('paid_on')) }} as paid_on_is_invalid,
        lower(trim(status)) as status,
        lower(trim(channel)) as channel,
        {{ sj_provenance() }}
    from source
)

select * from renamed
