-- record: a task failed for a window; keeps only its latest failure. The same error again keeps its
-- alerted_at (it was mailed already); another error is news, and is alerted again.
insert into storepipe.task_failures (task_name, window_start, task_id, error)
values (%(task_name)s, %(window_start)s, %(task_id)s, %(error)s)
on conflict (task_name, window_start) do update set
    task_id = excluded.task_id,
    error = excluded.error,
    failed_at = clock_timestamp(),
    alerted_at = case
        when task_failures.error = excluded.error then task_failures.alerted_at
    end
