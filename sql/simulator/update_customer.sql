-- update_customer: one customer's change inside the window. Applied only over an older (or this
-- same) version, so regenerating an old window never regresses a newer change.
update customers
set
    last_name = %(last_name)s,
    state_code = %(state_code)s,
    datetime_updated = %(datetime_updated)s
where
    customer_id = %(customer_id)s
    and datetime_updated <= %(datetime_updated)s
