-- Loaded tables default window_start to this setting; local: it ends with the transaction.
select set_config('storepipe.window_start', %(window_start)s::text, true)
