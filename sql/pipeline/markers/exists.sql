-- exists: whether every task in %(task_names)s has a marker for the window %(window_start)s (one
-- written since %(after)s, when a forced rebuild asks for markers newer than its start): one index
-- lookup per task, for a single window (a range goes through `incomplete`).
-- (the next lines only give sqlfluff values to parse where the parameters go)
-- sqlfluff:templater:placeholder:task_names:array[current_user]
-- sqlfluff:templater:placeholder:after:null
select count(*) = cardinality(%(task_names)s::text[]) as done
from storepipe.markers
where
    task_name = any(%(task_names)s)
    and window_start = %(window_start)s
    and (%(after)s::timestamptz is null or done_at >= %(after)s::timestamptz)
