-- needs_analyze: would autovacuum analyze this table after the rows just written (its own rule:
-- never analyzed, or at least autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x its
-- rows changed)? The window's checks read it before the commit, so before autovacuum can: a new
-- warehouse's fct_orders would otherwise be planned as empty, and a dim_customers analyzed when it
-- held one row would make its 5M orders look customerless (a nested-loop anti join: 47 s at 5M).
-- A partitioned parent is left alone: autovacuum never analyzes one (its partitions are analyzed
-- when loaded).
select
    relkind = 'r'
    and (
        reltuples < 0
        or %(rows)s >= current_setting('autovacuum_analyze_threshold')::integer
        + current_setting('autovacuum_analyze_scale_factor')::float8 * reltuples
    ) as needs_analyze
from pg_class
where oid = %(relation)s::regclass
