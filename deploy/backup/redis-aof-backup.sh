#!/usr/bin/env bash
# Copy Redis's append-only files (Redis 7: the appendonlydir folder) into a dated tar, kept
# REHAB_BACKUP_DAYS days. Redis's own advice for an AOF backup: no rewrite may run while the files are
# linked, so INFO is asked before and after (as the `operator` user, which may run INFO but not
# CONFIG), and the copy is retried if a rewrite ran meanwhile.
#   REDIS_DATA_DIR=/var/lib/redis REHAB_REDIS_ADDRESS=127.0.0.1:6379 redis-aof-backup.sh
# The password is a file (REHAB_REDIS_PASSWORD_FILE, or the systemd credential redis-operator-password).
set -euo pipefail

data_dir="${REDIS_DATA_DIR:-/var/lib/redis}"
backup_dir="${REHAB_BACKUP_DIR:-/var/backups/rehab}/redis"
days="${REHAB_BACKUP_DAYS:-30}"
address="${REHAB_REDIS_ADDRESS:-127.0.0.1:6379}"
password_file="${REHAB_REDIS_PASSWORD_FILE:-${CREDENTIALS_DIRECTORY:-/nonexistent}/redis-operator-password}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

redis_info() {
  REDISCLI_AUTH="$(<"$password_file")" redis-cli --no-auth-warning --user operator \
    -h "${address%:*}" -p "${address##*:}" INFO persistence | tr -d '\r'
}

rewriting() {
  redis_info | grep -q '^aof_rewrite_in_progress:1'
}

umask 077
mkdir -p "$backup_dir"
scratch="$(mktemp -d "$backup_dir/.aof-$stamp.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
for attempt in 1 2 3 4 5; do
  while rewriting; do sleep 2; done
  rm -rf "${scratch:?}/appendonlydir"
  # Hard links: the files Redis has now, even if a rewrite replaces them a moment later.
  cp -al "$data_dir/appendonlydir" "$scratch/appendonlydir" 2>/dev/null \
    || cp -a "$data_dir/appendonlydir" "$scratch/appendonlydir"  # another filesystem: a plain copy
  if ! rewriting; then
    tar -C "$scratch" -czf "$backup_dir/aof-$stamp.tar.gz.partial" appendonlydir
    mv "$backup_dir/aof-$stamp.tar.gz.partial" "$backup_dir/aof-$stamp.tar.gz"
    echo "redis-aof-backup: $backup_dir/aof-$stamp.tar.gz"
    find "$backup_dir" -name 'aof-*.tar.gz' -mtime "+$days" ! -name "aof-$stamp.tar.gz" -print -delete
    exit 0
  fi
  echo "redis-aof-backup: a rewrite started during attempt $attempt; again" >&2
done
echo "redis-aof-backup: FAILED: Redis kept rewriting its AOF" >&2
exit 1
