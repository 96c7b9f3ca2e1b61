-- setup_roles: the dev stack's login roles, created once and kept in step with the
-- dev-only passwords on every `up`. storepipe_reader reads the source; sde owns the warehouse;
-- storepipe_capture reads the source's change log through a replication slot.
-- (the two lines below only give sqlfluff a literal to parse where a password parameter goes)
-- sqlfluff:templater:placeholder:sde_password:'lint_only'
-- sqlfluff:templater:placeholder:reader_password:'lint_only'
-- sqlfluff:templater:placeholder:capture_password:'lint_only'
do $$
begin
    if not exists (select from pg_roles where rolname = 'sde') then
        create role sde;
    end if;
    if not exists (select from pg_roles where rolname = 'storepipe_reader') then
        create role storepipe_reader;
    end if;
    if not exists (select from pg_roles where rolname = 'storepipe_capture') then
        create role storepipe_capture;
    end if;
end
$$;

alter role sde with login password %(sde_password)s;

alter role storepipe_reader with login nosuperuser nocreatedb nocreaterole password %(reader_password)s;

-- a write through the reader fails even before privileges are checked
alter role storepipe_reader set default_transaction_read_only = on;

-- REPLICATION lets it create and read a slot; it is no superuser and owns nothing
alter role storepipe_capture with login replication nosuperuser nocreatedb nocreaterole password %(capture_password)s;

alter role storepipe_capture set default_transaction_read_only = on;
