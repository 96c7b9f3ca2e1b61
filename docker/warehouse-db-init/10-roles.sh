#!/bin/bash
# First start of the warehouse database (postgres image, /docker-entrypoint-initdb.d), as its admin
# (POSTGRES_USER, which no service uses afterwards). The roles the services log in as, none of them a
# superuser nor able to run programs or read server files (COPY ... TO PROGRAM, pg_read_file):
#   WAREHOUSE_USER (sde)  the pipeline: owns the warehouse database, so its migrations own the schemas
#   storepipe_analyst     Metabase and analysts: reads analytics and store.states (warehouse migration 0016)
#   storepipe_luigid      luigid's task history, in a database of its own that no one else may open
# The same roles as the dev stack's (sql/devstack/setup_roles.sql).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" -v pipeline="$WAREHOUSE_USER" -v pipeline_password="$WAREHOUSE_PASSWORD" \
  -v analyst_password="$WAREHOUSE_ANALYST_PASSWORD" -v luigid_password="$LUIGI_HISTORY_PASSWORD" <<'SQL'
create role :"pipeline" login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
  password :'pipeline_password';
create role storepipe_analyst login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
  password :'analyst_password';
-- a stray write fails even before privileges are checked
alter role storepipe_analyst set default_transaction_read_only = on;
create role storepipe_luigid login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
  password :'luigid_password';
alter database :"db" owner to :"pipeline";
-- the public schema belongs to the database owner (PostgreSQL 15+): no one else creates in it
revoke all on database :"db" from public;
grant connect on database :"db" to storepipe_analyst;
create database luigi_history owner storepipe_luigid;
revoke all on database luigi_history from public;
SQL
