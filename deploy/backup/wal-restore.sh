#!/usr/bin/env bash
# PostgreSQL's restore_command during point-in-time recovery: wal-restore.sh %f %p
# Exits non-zero when the segment is not in the archive, which tells PostgreSQL the archive ends there.
set -euo pipefail

name="${1:?usage: wal-restore.sh %f %p}"
target="${2:?usage: wal-restore.sh %f %p}"
archive="${REHAB_WAL_ARCHIVE_DIR:-/var/lib/rehab-backup/wal}"

[[ -f "$archive/$name" ]] || exit 1
cp "$archive/$name" "$target"
