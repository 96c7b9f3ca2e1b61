-- The upkeep's own lock timeout, for this transaction only (see partitions.UPKEEP_LOCK_TIMEOUT).
select set_config('lock_timeout', %(timeout)s, true)
