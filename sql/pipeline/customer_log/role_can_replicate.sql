-- role_can_replicate: the session's role and whether it may create and read replication slots.
select
    rolname as role_name,
    rolreplication or rolsuper as can_replicate
from pg_roles
where rolname = current_user
