#!/bin/bash
# First start of the source database: the change capture's role. It reads the customers' change
# log through a replication slot (REPLICATION) and the table for the initial snapshot (SELECT),
# and writes nothing: read-only by default, and no write privilege on any application table.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v capture_password="$SOURCE_DB_CAPTURE_PASSWORD" -v db="$POSTGRES_DB" -v admin="$POSTGRES_USER" <<'SQL'
create role storepipe_capture login replication nosuperuser nocreatedb nocreaterole password :'capture_password';
alter role storepipe_capture set default_transaction_read_only = on;
grant connect on database :"db" to storepipe_capture;
grant usage on schema public to storepipe_capture;
alter default privileges for role :"admin" in schema public grant select on tables to storepipe_capture;
SQL
