-- other_versions: the markers of the windows starting in [%(range_start)s, %(range_end)s) whose
-- version is not the current one of their task (%(task_names)s paired with %(versions)s), or
-- unknown; grain (task_name, window_start). Three index ranges per task on (task_name, version,
-- window_start), so a range built on the current versions reads no marker at all.
select
    c.task_name,
    m.window_start,
    m.version
from unnest(%(task_names)s::text[], %(versions)s::text[]) as c (task_name, version)
-- lateral: each task's ranges read its own current version, which a CTE cannot
cross join
    lateral ( -- noqa: ST05
        select
            o.window_start,
            o.version
        from storepipe.markers as o
        where
            o.task_name = c.task_name
            and o.version is null
            and o.window_start >= %(range_start)s
            and o.window_start < %(range_end)s
        union all
        select
            o.window_start,
            o.version
        from storepipe.markers as o
        where
            o.task_name = c.task_name
            and o.version < c.version
            and o.window_start >= %(range_start)s
            and o.window_start < %(range_end)s
        union all
        select
            o.window_start,
            o.version
        from storepipe.markers as o
        where
            o.task_name = c.task_name
            and o.version > c.version
            and o.window_start >= %(range_start)s
            and o.window_start < %(range_end)s
    ) as m
order by c.task_name asc, m.window_start asc
