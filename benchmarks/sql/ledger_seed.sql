-- ledger_seed: the markers a finished range leaves, %(task_names)s for every window from %(first)s to
-- %(last)s (each with the version paired with it in %(versions)s: the current one for transforms and
-- publish, null for extracts and loads), inserted in one statement as the ledger benchmark's setup.
insert into storepipe.markers (task_name, window_start, task_id, row_count, version)
select
    names.task_name,
    windows.window_start,
    'bench-seeded' as task_id,
    0 as row_count,
    names.version
from unnest(%(task_names)s::text[], %(versions)s::text[]) as names (task_name, version)
cross join
    generate_series(%(first)s::timestamp, %(last)s::timestamp, make_interval(mins => %(minutes)s))
        as windows (window_start)
