-- Whether a table is partitioned (by window: migration 0008), so its windows are swapped in whole.
select count(*) > 0 as partitioned
from pg_catalog.pg_partitioned_table
where partrelid = to_regclass(%(relation)s)
