-- luigi_history_tables: run in luigi_history. Tables that luigid created while the history was
-- sde's (a dev stack made before storepipe_luigid existed) pass to storepipe_luigid, with the
-- sequences of their columns; on a stack made since, there are none.
do $$
declare
    owned record;
begin
    for owned in
        select tablename from pg_tables where schemaname = 'public' and tableowner <> 'storepipe_luigid'
    loop
        execute format('alter table public.%I owner to storepipe_luigid', owned.tablename);
    end loop;
end
$$
