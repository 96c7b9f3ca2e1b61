#!/bin/bash
# First start of the source database (postgres image, /docker-entrypoint-initdb.d): the read-only
# role that the pipeline and the risk API log in as. Tables that the admin role creates later
# (the migrations) are readable by it and by nobody else.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$SOURCE_DB_READER_PASSWORD" -v db="$POSTGRES_DB" -v admin="$POSTGRES_USER" <<'SQL'
create role storepipe_reader login nosuperuser nocreatedb nocreaterole password :'reader_password';
-- a write through the reader fails even before privileges are checked
alter role storepipe_reader set default_transaction_read_only = on;
revoke all on database :"db" from public;
grant connect on database :"db" to storepipe_reader;
grant usage on schema public to storepipe_reader;
alter default privileges for role :"admin" in schema public grant select on tables to storepipe_reader;
SQL
