-- analyst_reads_analytics: forward-only. The analyst role (Metabase, psql for analysts) reads the
-- marts in analytics and the store.states lookup, nothing else: no store.* data, no staging, no
-- storepipe.* bookkeeping, no write anywhere. Run as the pipeline role, which owns the schemas; the
-- role itself is made by whoever runs the database (sql/devstack/setup_roles.sql,
-- docker/warehouse-db-init/10-roles.sh), since the pipeline role may not create roles.
do $$
begin
    if not exists (select from pg_roles where rolname = 'storepipe_analyst') then
        raise exception 'role storepipe_analyst does not exist: create it as the database admin, then migrate again';
    end if;
    -- only the roles named below connect; PUBLIC's default CONNECT and TEMP would admit any role
    execute format('revoke all on database %I from public', current_database());
    execute format('grant connect on database %I to storepipe_analyst', current_database());
end
$$;

grant usage on schema analytics to storepipe_analyst;

grant select on all tables in schema analytics to storepipe_analyst;

-- marts and partitions the pipeline creates later are readable too
alter default privileges in schema analytics grant select on tables to storepipe_analyst;

-- usage on store lets it name store.states; every other store table stays unreadable
grant usage on schema store to storepipe_analyst;

grant select on store.states to storepipe_analyst;
