-- Every check's result of the window, in one statement: one array per column, a check per element.
-- (the next lines only give sqlfluff values to parse where the parameters go)
-- sqlfluff:templater:placeholder:check_names:array[current_user]
-- sqlfluff:templater:placeholder:severities:array[current_user]
-- sqlfluff:templater:placeholder:statuses:array[current_user]
-- sqlfluff:templater:placeholder:failing_rows:array[1]
-- sqlfluff:templater:placeholder:samples:array[current_user]
insert into storepipe.check_results (
    window_start, check_name, severity, status, failing_rows, sample
)
select
    %(window_start)s as window_start,
    results.check_name,
    results.severity,
    results.status,
    results.failing_rows,
    results.sample
from unnest(
    %(check_names)s::text[],
    %(severities)s::text[],
    %(statuses)s::text[],
    %(failing_rows)s::bigint[],
    %(samples)s::text[]
) as results (check_name, severity, status, failing_rows, sample)
