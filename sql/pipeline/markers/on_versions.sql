-- on_versions: how many windows' markers of each task (%(task_names)s) were built with the version
-- paired with it in %(versions)s (for `storepipe sql list`).
select
    c.task_name,
    count(m.window_start) as windows
from unnest(%(task_names)s::text[], %(versions)s::text[]) as c (task_name, version)
left join storepipe.markers as m
    on
        c.task_name = m.task_name
        and c.version = m.version
group by c.task_name
