-- rows_in_windows: rows the markers %(task_names)s recorded over the windows of the runs
-- [%(firsts)s[i], %(stops)s[i]), one index range per run and task.
-- (the next lines only give sqlfluff values to parse where the array parameters go)
-- sqlfluff:templater:placeholder:firsts:array[localtimestamp]
-- sqlfluff:templater:placeholder:stops:array[localtimestamp]
-- sqlfluff:templater:placeholder:task_names:array[current_user]
select coalesce(sum(markers.row_count), 0) as row_count
from unnest(%(firsts)s::timestamp[], %(stops)s::timestamp[]) as runs (run_start, run_stop)
inner join storepipe.markers
    on
        markers.task_name = any(%(task_names)s)
        and runs.run_start <= markers.window_start
        and runs.run_stop > markers.window_start
