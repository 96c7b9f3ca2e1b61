-- luigi_history_owner: run in the postgres database after the databases exist. luigid's history
-- belongs to storepipe_luigid alone (a dev stack made before it existed had it owned by sde), and
-- no other role connects to it.
alter database luigi_history owner to storepipe_luigid;

revoke all on database luigi_history from public;
