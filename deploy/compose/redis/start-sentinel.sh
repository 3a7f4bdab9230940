#!/usr/bin/env bash
# Start one Sentinel of the district's group `rehab` (quorum 2 of 3). Sentinel rewrites its own
# configuration as the group changes, so it is written once into the Sentinel's volume and kept.
set -euo pipefail

secrets_dir="${REHAB_SECRETS_DIR:-/run/secrets}"
primary="${REHAB_REDIS_PRIMARY:?REHAB_REDIS_PRIMARY: the first primary host name}"
self="${REHAB_SENTINEL_SELF:?REHAB_SENTINEL_SELF: this Sentinel host name}"
config="${REHAB_SENTINEL_CONFIG:-/data/sentinel.conf}"

file="$secrets_dir/redis_sentinel_password"
if [[ ! -r "$file" ]]; then
  echo "start-sentinel: missing secret $file (deploy/compose/prepare-secrets.sh makes it)" >&2
  exit 1
fi
password="$(<"$file")"

umask 077
if [[ ! -s "$config" ]]; then
  cat >"$config" <<CONF
port ${REHAB_SENTINEL_PORT:-26379}
protected-mode no
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $self
requirepass $password
sentinel sentinel-pass $password
sentinel monitor rehab $primary ${REHAB_REDIS_PRIMARY_PORT:-6379} 2
sentinel auth-user rehab sentinel
sentinel auth-pass rehab $password
sentinel down-after-milliseconds rehab ${REHAB_SENTINEL_DOWN_AFTER_MS:-5000}
sentinel failover-timeout rehab 60000
sentinel parallel-syncs rehab 1
CONF
fi
exec redis-server "$config" --sentinel
