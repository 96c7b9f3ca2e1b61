-- read: the stored versions among %(fingerprints)s.
select
    fingerprint,
    node,
    own_hash,
    upstream,
    forward_only,
    normalized_sql
from storepipe.model_versions
where fingerprint = any(%(fingerprints)s)
