-- task_failures_alerted: when a failure was last in a failure alert, so that the cron line's
-- backfill, which meets the same failed windows every 5 minutes, mails a failure once (and again
-- after [alerts] repeat_after) instead of every run. Null: not alerted yet.
alter table storepipe.task_failures add column alerted_at timestamptz;
