-- quarantine_action: a quarantine row is either a row set aside ('rejected', counted against the
-- source's max_bad_share) or a row loaded as it is with a note on what is odd about it ('flagged').
alter table storepipe.quarantine
add column action text not null default 'rejected'
check (action in ('rejected', 'flagged'));
