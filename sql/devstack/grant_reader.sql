-- grant_reader: run in the source database after its migrations. The reader and the capture
-- role may connect to the source and select customers, nothing else (the capture role reads
-- the initial snapshot); other roles lose the default PUBLIC grants.
alter database warehouse owner to sde;

revoke all on database source from public;

revoke all on database warehouse from public;

revoke all on database postgres from public;

grant connect on database source to storepipe_reader;

grant usage on schema public to storepipe_reader;

grant select on customers to storepipe_reader;

grant connect on database source to storepipe_capture;

grant usage on schema public to storepipe_capture;

grant select on customers to storepipe_capture;
