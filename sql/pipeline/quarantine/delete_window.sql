delete from storepipe.quarantine
where
    source = %(source)s
    and window_start = %(window_start)s
