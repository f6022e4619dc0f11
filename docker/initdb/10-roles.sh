#!/bin/sh
# The two roles of README "Database roles", made once when the postgres image initialises its volume:
# the owner runs the migrations; the application's role cannot UPDATE, DELETE or TRUNCATE history.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE journal_owner LOGIN PASSWORD '${JOURNAL_OWNER_PASSWORD}';
CREATE ROLE journal_app LOGIN PASSWORD '${JOURNAL_APP_PASSWORD}';
ALTER DATABASE "${POSTGRES_DB}" OWNER TO journal_owner;
GRANT CONNECT, TEMPORARY, CREATE ON DATABASE "${POSTGRES_DB}" TO journal_app;
ALTER SCHEMA public OWNER TO journal_owner;
CREATE SCHEMA pgboss AUTHORIZATION journal_app;
SQL
