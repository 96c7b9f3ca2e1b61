-- server_settings: the current value of each server setting the dev stack manages; grain name.
select
    name,
    setting
from pg_settings
where name = any(%(names)s)
