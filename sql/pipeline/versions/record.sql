-- record: keep a version's normalized text the first time a marker is written with it (versions
-- are immutable: the fingerprint is a hash of everything stored with it).
insert into storepipe.model_versions (fingerprint, node, own_hash, upstream, forward_only, normalized_sql)
select
    v.fingerprint,
    v.node,
    v.own_hash,
    v.upstream::jsonb,
    v.forward_only,
    v.normalized_sql
from
    unnest(
        %(fingerprints)s::text[],
        %(nodes)s::text[],
        %(own_hashes)s::text[],
        %(upstreams)s::text[],
        %(forward_only)s::boolean[],
        %(texts)s::text[]
    ) as v (fingerprint, node, own_hash, upstream, forward_only, normalized_sql)
on conflict (fingerprint) do nothing
