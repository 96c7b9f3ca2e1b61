-- worth_analyzing: is a freshly filled window table big enough for its statistics to matter? Below
-- a few MB every plan over it takes milliseconds, and ANALYZE's catalog writes cost more than that
-- (12 ms on each 100-order window of a backfill).
select pg_relation_size(%(relation)s::regclass) >= %(min_bytes)s as worth_analyzing
