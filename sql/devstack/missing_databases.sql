-- missing_databases: which of the dev stack's databases do not exist yet; grain datname.
select wanted.datname
from unnest(%(names)s::text[]) as wanted (datname)
where
    not exists (
        select
        from pg_database
        where pg_database.datname = wanted.datname
    )
order by wanted.datname
