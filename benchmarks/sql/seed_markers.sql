-- seed_markers: the markers a finished range leaves, written straight in: every marker named in
-- %(task_names)s (each on the version paired with it in %(versions)s: null for an extract or a load,
-- which have none) for every window from %(first)s to %(last)s, in one statement (a year of complete
-- windows is over a million markers).
insert into storepipe.markers (task_name, window_start, task_id, row_count, version)
select
    n.task_name,
    s.window_start,
    'bench-seeded' as task_id,
    0 as row_count,
    n.version
from unnest(%(task_names)s::text[], %(versions)s::text[]) as n (task_name, version)
cross join
    generate_series(%(first)s::timestamp, %(last)s::timestamp, interval '5 minutes') as s (window_start)
