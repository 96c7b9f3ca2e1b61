-- incomplete: the windows of the runs [%(firsts)s[i], %(stops)s[i]) of %(minutes)s-minute windows
-- that lack a marker of some task in %(task_names)s (one written since %(after)s, when a forced
-- rebuild asks for markers newer than its start); grain window_start.
-- The range goes in as its bounds, never as a list of its windows: each run is cut into days, and
-- one index range per day and task counts the day's markers. A day with all of them (the no-op
-- case: a complete year reads its markers once and makes no window) or none of them is answered
-- by its count; only a day with some of them looks its windows up one by one.
-- (the next lines only give sqlfluff values to parse where the array parameters go)
-- sqlfluff:templater:placeholder:firsts:array[localtimestamp]
-- sqlfluff:templater:placeholder:stops:array[localtimestamp]
-- sqlfluff:templater:placeholder:task_names:array[current_user]
-- sqlfluff:templater:placeholder:after:null
-- sqlfluff:templater:placeholder:minutes:5
with

days as materialized (
    select
        day.day_start,
        least(day.day_start + interval '1 day', runs.run_stop) as day_stop,
        (
            select count(*)
            from storepipe.markers
            where
                markers.task_name = any(%(task_names)s)
                and markers.window_start >= day.day_start
                and markers.window_start < least(day.day_start + interval '1 day', runs.run_stop)
                -- only markers on the grid count (one left by windows of another length would not)
                and date_bin(make_interval(mins => %(minutes)s), markers.window_start, day.day_start)
                = markers.window_start
                and (%(after)s::timestamptz is null or markers.done_at >= %(after)s::timestamptz)
        ) as found
    from unnest(%(firsts)s::timestamp[], %(stops)s::timestamp[]) as runs (run_start, run_stop)
    cross join
        lateral generate_series(
            runs.run_start, runs.run_stop - make_interval(mins => %(minutes)s), interval '1 day'
        ) as day (day_start)
),

final as (
    select windows.window_start
    from days
    cross join
        lateral generate_series(
            days.day_start, days.day_stop - make_interval(mins => %(minutes)s), make_interval(mins => %(minutes)s)
        ) as windows (window_start)
    where
        days.found
        < cardinality(%(task_names)s::text[])
        * extract(epoch from days.day_stop - days.day_start)
        / (%(minutes)s * 60)
        and (
            days.found = 0
            or (
                select count(*)
                from storepipe.markers
                where
                    markers.task_name = any(%(task_names)s)
                    and markers.window_start = windows.window_start
                    and (%(after)s::timestamptz is null or markers.done_at >= %(after)s::timestamptz)
            )
            < cardinality(%(task_names)s::text[])
        )
)

select * from final
