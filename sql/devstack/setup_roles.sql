-- setup_roles: the dev stack's login roles, created once and kept in step with the
-- dev-only passwords on every `up`. storepipe_reader reads the source; sde, the pipeline role,
-- owns the warehouse; storepipe_capture reads the source's change log through a replication
-- slot; storepipe_analyst reads the warehouse's marts (its grants: warehouse migration 0016);
-- storepipe_luigid owns luigid's task history database. None is a superuser, none may run
-- programs or read files on the server (COPY ... TO PROGRAM, pg_read_file).
-- (the lines below only give sqlfluff a literal to parse where a password parameter goes; the
-- secret scan skips them: .secrets.baseline's exclude-lines filter)
-- sqlfluff:templater:placeholder:sde_password:'lint_only'
-- sqlfluff:templater:placeholder:reader_password:'lint_only'
-- sqlfluff:templater:placeholder:capture_password:'lint_only'
-- sqlfluff:templater:placeholder:analyst_password:'lint_only'
-- sqlfluff:templater:placeholder:luigid_password:'lint_only'
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
    if not exists (select from pg_roles where rolname = 'storepipe_analyst') then
        create role storepipe_analyst;
    end if;
    if not exists (select from pg_roles where rolname = 'storepipe_luigid') then
        create role storepipe_luigid;
    end if;
end
$$;

-- stated in full, so a cluster made before these rules (sde a superuser) is brought down to them
alter role sde with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password %(sde_password)s;

alter role storepipe_reader with login nosuperuser nocreatedb nocreaterole password %(reader_password)s;

-- a write through the reader fails even before privileges are checked
alter role storepipe_reader set default_transaction_read_only = on;

-- REPLICATION lets it create and read a slot; it is no superuser and owns nothing
alter role storepipe_capture with login replication nosuperuser nocreatedb nocreaterole password %(capture_password)s;

alter role storepipe_capture set default_transaction_read_only = on;

-- the analyst: reads only (privileges say so; the read-only default makes a stray write fail first)
alter role storepipe_analyst with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
password %(analyst_password)s;

alter role storepipe_analyst set default_transaction_read_only = on;

alter role storepipe_luigid with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
password %(luigid_password)s;

-- the roles that let a non-superuser run programs or read and write server files: nobody here has
-- them (in a block: sqlfluff's postgres dialect does not parse a revoke of roles)
do $$
begin
    revoke pg_execute_server_program, pg_read_server_files, pg_write_server_files
    from sde, storepipe_reader, storepipe_capture, storepipe_analyst, storepipe_luigid;
end
$$;
