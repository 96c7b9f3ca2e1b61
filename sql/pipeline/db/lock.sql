-- Transaction-level advisory lock: a second writer of the same task and window waits
-- here, then finds the first one's marker and does nothing.
select pg_advisory_xact_lock(hashtextextended(%(lock_name)s, 0))
