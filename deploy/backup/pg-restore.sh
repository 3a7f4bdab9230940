#!/usr/bin/env bash
# Restore one service's database from a pg_dump file (pg-backup.sh), keeping the current one aside:
#   pg-restore.sh survey /var/backups/rehab/pg/survey/survey-20260301T023000Z.dump
# The dump goes into <database>_restoring; only when that succeeded is the current database renamed
# <database>_before_<time> and the restored one takes its name. Stop the service first (every
# instance): PostgreSQL cannot rename a database with connections. Run as a superuser (PGUSER=postgres).
set -euo pipefail

database="${1:?usage: pg-restore.sh DATABASE DUMP_FILE}"
dump="${2:?usage: pg-restore.sh DATABASE DUMP_FILE}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
restoring="${database}_restoring"

[[ "$database" =~ ^[a-z_]+$ ]] || { echo "pg-restore: not a database name: $database" >&2; exit 2; }
[[ -r "$dump" ]] || { echo "pg-restore: cannot read $dump" >&2; exit 2; }
pg_restore --list "$dump" >/dev/null

psql_admin() {
  psql -X -v ON_ERROR_STOP=1 --no-password --dbname=postgres "$@"
}

psql_admin -c "DROP DATABASE IF EXISTS $restoring"
psql_admin -c "CREATE DATABASE $restoring OWNER $database TEMPLATE template0 ENCODING 'UTF8'"
pg_restore --no-password --exit-on-error --no-owner --role="$database" --dbname="$restoring" "$dump"
psql_admin -c "ALTER DATABASE $database RENAME TO ${database}_before_$stamp"
psql_admin -c "ALTER DATABASE $restoring RENAME TO $database"
psql_admin -c "REVOKE ALL ON DATABASE $database FROM PUBLIC"
psql_admin -c "GRANT CONNECT ON DATABASE $database TO rehab_backup"
echo "pg-restore: $database restored from $dump; the previous one is ${database}_before_$stamp" \
  "(drop it once the service runs: DROP DATABASE ${database}_before_$stamp)"
