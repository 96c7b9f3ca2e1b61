-- capture_updates: `transactions` transactions, each updating every benchmark customer once
-- (a change per customer per transaction), committed one by one.
do $$
begin
    for t in 1..%(transactions)s loop
        update customers
        set last_name = 'Bench ' || t, datetime_updated = datetime_updated + interval '1 second'
        where customer_id >= %(first_id)s and customer_id < %(first_id)s + %(customers)s;
        commit;
    end loop;
end
$$
