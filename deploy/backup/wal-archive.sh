#!/usr/bin/env bash
# PostgreSQL's archive_command (deploy/postgresql/postgresql.conf): wal-archive.sh %p %f
# Copies one WAL segment into REHAB_WAL_ARCHIVE_DIR (default /var/lib/rehab-backup/wal), durably and
# atomically; refuses to overwrite a different file of the same name (PostgreSQL then retries and
# warns), and succeeds for an identical one (a retry after a crash between copy and report).
set -euo pipefail

source_path="${1:?usage: wal-archive.sh %p %f}"
name="${2:?usage: wal-archive.sh %p %f}"
archive="${REHAB_WAL_ARCHIVE_DIR:-/var/lib/rehab-backup/wal}"
target="$archive/$name"

if [[ -e "$target" ]]; then
  if cmp -s "$source_path" "$target"; then
    exit 0
  fi
  echo "wal-archive: $target exists and differs from $source_path" >&2
  exit 1
fi
umask 077
mkdir -p "$archive"
cp "$source_path" "$target.partial"
sync "$target.partial"
mv "$target.partial" "$target"
sync "$archive"
