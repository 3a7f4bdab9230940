#!/usr/bin/env bash
# pg_dump of every rehab database (custom format, checked with pg_restore --list), kept
# REHAB_BACKUP_DAYS days (default 30). Connects with libpq's variables (PGHOST, PGPORT, PGUSER: the
# rehab_backup role of deploy/postgresql/roles.sql, which reads every database and nothing else).
#   REHAB_BACKUP_DIR=/var/backups/rehab/pg PGHOST=/run/postgresql PGUSER=rehab_backup pg-backup.sh
set -euo pipefail

backup_dir="${REHAB_BACKUP_DIR:-/var/backups/rehab/pg}"
days="${REHAB_BACKUP_DAYS:-30}"
read -r -a databases <<<"${REHAB_DATABASES:-survey assessment approval delivery settlement console}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

umask 077
failed=0
for database in "${databases[@]}"; do
  mkdir -p "$backup_dir/$database"
  target="$backup_dir/$database/$database-$stamp.dump"
  partial="$target.partial"
  # --serializable-deferrable: a consistent snapshot that never blocks the services' writes.
  if pg_dump --format=custom --compress=6 --serializable-deferrable --no-password \
      --dbname="$database" --file="$partial" \
      && pg_restore --list "$partial" >/dev/null; then
    mv "$partial" "$target"
    echo "pg-backup: $database -> $target ($(du -h "$target" | cut -f1))"
  else
    rm -f "$partial"
    echo "pg-backup: FAILED $database" >&2
    failed=1
  fi
done

# Retention: only after this run's dumps are written, and never the newest dump of a database.
for database in "${databases[@]}"; do
  newest="$(find "$backup_dir/$database" -name "$database-*.dump" | sort | tail -n1)"
  find "$backup_dir/$database" -name "$database-*.dump" -mtime "+$days" ! -path "$newest" -print -delete
done
exit "$failed"
