-- hold: the markers of a task's inputs for its window, locked FOR KEY SHARE until the task commits, in
-- the order given (the one order the capture deletes them in, so the two never wait in a circle);
-- a missing name was re-opened. An input rebuilt meanwhile (its marker updated, not deleted) waits for nothing.
select markers.task_name
from unnest(%(task_names)s::text[]) with ordinality as wanted (task_name, position)
inner join storepipe.markers as markers
    on
        wanted.task_name = markers.task_name
        and markers.window_start = %(window_start)s
order by wanted.position
for key share of markers
