#!/usr/bin/env bash
# Start one Redis node of the district: deploy/redis/redis.conf (AOF, appendfsync always, noeviction)
# with the ACL users of deploy/redis/users.acl, each user's demo hash replaced by the hash of its
# password from the compose secrets, plus the `replica` and `sentinel` users the group needs.
# A node starts as the primary named by the Sentinels if one answers, else as REHAB_REDIS_PRIMARY's
# replica (unless it is that primary itself), so a restarted former primary rejoins as a replica.
set -euo pipefail

secrets_dir="${REHAB_SECRETS_DIR:-/run/secrets}"
config_dir="${REHAB_REDIS_CONFIG_DIR:-/etc/rehab/redis}"
runtime_dir="${REHAB_REDIS_RUNTIME_DIR:-/tmp/rehab-redis}"
self="${REHAB_REDIS_SELF:?REHAB_REDIS_SELF: this node host name}"
primary="${REHAB_REDIS_PRIMARY:?REHAB_REDIS_PRIMARY: the first primary host name}"

password_of() {
  local file="$secrets_dir/redis_${1}_password"
  if [[ ! -r "$file" ]]; then
    echo "start-redis: missing secret $file (deploy/compose/prepare-secrets.sh makes it)" >&2
    exit 1
  fi
  local password
  password="$(<"$file")"
  printf '%s' "$password"
}

hash_of() {
  printf '%s' "$(password_of "$1")" | sha256sum | cut -d' ' -f1
}

umask 077
mkdir -p "$runtime_dir"
acl="$runtime_dir/users.acl"
: >"$acl"
while read -r keyword name rest; do
  [[ -z "$keyword" ]] && continue
  if [[ "$keyword" == user && "$rest" == on\ \#* ]]; then
    # "on #<demo hash> rules…" -> "on #<hash of the secret> rules…"
    rules="${rest#on \#* }"
    printf 'user %s on #%s %s\n' "$name" "$(hash_of "$name")" "$rules" >>"$acl"
  else
    printf '%s %s %s\n' "$keyword" "$name" "$rest" >>"$acl"
  fi
done <"$config_dir/users.acl"
# Replication and Sentinel (the rules Redis's documentation gives for them).
printf 'user replica on #%s resetkeys resetchannels -@all +psync +replconf +ping\n' \
  "$(hash_of replica)" >>"$acl"
printf 'user sentinel on #%s resetkeys allchannels -@all +multi +slaveof +ping +exec +subscribe %s\n' \
  "$(hash_of sentinel)" "+config|rewrite +role +publish +info +client|setname +client|kill +script|kill" >>"$acl"

port="${REHAB_REDIS_PORT:-6379}"
current_primary="$primary"
current_port="${REHAB_REDIS_PRIMARY_PORT:-6379}"
if [[ -n "${REHAB_REDIS_SENTINELS:-}" ]]; then
  for sentinel in ${REHAB_REDIS_SENTINELS//,/ }; do
    if answer="$(REDISCLI_AUTH="$(password_of sentinel)" timeout 3 redis-cli --no-auth-warning -h "${sentinel%:*}" \
        -p "${sentinel##*:}" SENTINEL get-master-addr-by-name rehab 2>/dev/null)" \
        && [[ "$(wc -l <<<"$answer")" -eq 2 ]]; then
      current_primary="$(sed -n 1p <<<"$answer")"
      current_port="$(sed -n 2p <<<"$answer")"
      break
    fi
  done
fi

config="$runtime_dir/redis.conf"
{
  echo "include $config_dir/redis.conf"
  # In a container the network is the boundary; the default user stays off (users.acl).
  echo "bind * -::*"
  echo "protected-mode no"
  echo "dir ${REHAB_REDIS_DATA_DIR:-/data}"
  echo "port $port"
  echo "aclfile $acl"
  echo "masteruser replica"
  echo "masterauth $(password_of replica)"
  echo "replica-announce-ip $self"
  if [[ "$current_primary:$current_port" != "$self:$port" ]]; then
    echo "replicaof $current_primary $current_port"
  fi
} >"$config"
exec redis-server "$config"
