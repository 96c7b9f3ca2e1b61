-- Per-session statement timeout from [warehouse] statement_timeout_s.
select set_config('statement_timeout', %(timeout)s, false)
