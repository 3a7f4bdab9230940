#!/usr/bin/env bash
# Make every secret compose.yaml names, under ./secrets/ (never committed): random passwords for
# PostgreSQL's roles and Redis's users, the console's token key, and each service's signing-key folder
# (every agency's public key, only its own private key). Existing files are kept, so it is safe to
# run again; delete a file to make it anew. Needs the `rehab` command (REHAB=…: e.g. .venv/bin/rehab,
# or "docker run --rm -u $(id -u) -v $PWD/secrets:/secrets rehab:0.1.0 rehab" with SECRETS=/secrets).
set -euo pipefail
cd "$(dirname "$0")"

rehab="${REHAB:-rehab}"
secrets="${SECRETS_DIR:-./secrets}"
rehab_secrets="${SECRETS:-$secrets}"   # the same folder as the rehab command sees it
service_uid="${REHAB_UID:-10001}"      # the image's rehab user (deploy/container/Containerfile)
agencies=(survey assessment approval delivery settlement)

umask 077
mkdir -p "$secrets"

random_password() {
  # 32 letters and digits (safe in a URL) from 48 random bytes; no pipe that ends in SIGPIPE.
  local bytes
  bytes="$(head -c 48 /dev/urandom | base64 -w0)"
  bytes="${bytes//[^A-Za-z0-9]/}"
  printf '%s' "${bytes:0:32}"
}

password_file() {
  local file="$secrets/$1"
  if [[ ! -s "$file" ]]; then
    random_password >"$file"
    echo "made $file"
  fi
}

password_file postgres_password
for role in "${agencies[@]}" console; do
  password_file "${role}_database_password"
done
for user in "${agencies[@]}" operator retention replica sentinel; do
  password_file "redis_${user}_password"
done

# The console's token key; the services get only its public half.
if [[ ! -s "$secrets/token-key.pem" ]]; then
  $rehab users rotate-key --access-dir "$rehab_secrets/access" >/dev/null
  cp "$secrets/access/token-key.pem" "$secrets/token-key.pem"
  newest_public="$(find "$secrets/access" -name 'token-key-*.pub.pem' | sort | tail -n1)"
  cp "$newest_public" "$secrets/token-key.pub.pem"
  echo "made $secrets/token-key.pem and token-key.pub.pem"
fi

# Settlement's own token for survey's data keys (names in 附件3): district-scoped, audited at each
# release, and it expires: delete the file and run this again to renew it (docs/runbook.md).
if [[ ! -s "$secrets/settlement_data_key_token" ]]; then
  $rehab users add settlement-register --agency settlement --role staff --scope district --replace \
    --access-dir "$rehab_secrets/access" >/dev/null
  $rehab token settlement-register --hours "${REHAB_DATA_KEY_TOKEN_HOURS:-720}" \
    --access-dir "$rehab_secrets/access" >"$secrets/settlement_data_key_token"
  echo "made $secrets/settlement_data_key_token (${REHAB_DATA_KEY_TOKEN_HOURS:-720} hours)"
fi

# Event-signing keys: one pair per agency in a scratch folder, then one folder per service.
keys="$secrets/signing-keys/all"
for agency in "${agencies[@]}"; do
  if [[ ! -d "$keys/$agency" ]]; then
    $rehab keys generate --agency "$agency" --dir "$rehab_secrets/signing-keys/all" >/dev/null
    echo "made the signing key of $agency"
  fi
done
for service in "${agencies[@]}"; do
  folder="$secrets/signing-keys/$service"
  rm -rf "$folder"
  for agency in "${agencies[@]}"; do
    mkdir -p "$folder/$agency"
    cp "$keys/$agency"/*.pub "$folder/$agency/"
    [[ -f "$keys/$agency/revoked" ]] && cp "$keys/$agency/revoked" "$folder/$agency/"
  done
  cp "$keys/$service"/*.key "$folder/$service/"
done

# Compose mounts these files as they are, owner and mode included. The services and the console run as
# uid $service_uid; the postgres and redis images' users are uid and gid 999. A password both sides read
# (a service's database and Redis passwords, the Sentinel and retention passwords) is $service_uid's,
# group 999, 0640;
# the rest is one side's alone, 0600.
chmod -R go-rwx "$secrets"
find "$secrets" -type d -exec chmod 0700 {} +
if [[ "$(id -u)" -eq 0 ]]; then
  chown -R "$service_uid" "$secrets/signing-keys" "$secrets/token-key.pem" "$secrets/token-key.pub.pem" \
    "$secrets/settlement_data_key_token"
  chown 999:999 "$secrets/postgres_password" "$secrets"/redis_{operator,replica}_password
  # The retention user's: Redis and the producing services, whose retention loops trim their streams.
  shared=("$secrets/redis_sentinel_password" "$secrets/redis_retention_password")
  for role in "${agencies[@]}" console; do
    shared+=("$secrets/${role}_database_password")
  done
  for user in "${agencies[@]}"; do
    shared+=("$secrets/redis_${user}_password")
  done
  chown "$service_uid:999" "${shared[@]}"
  chmod 0640 "${shared[@]}"
  chmod 0711 "$secrets"
  echo "owners set: uid $service_uid (rehab), 999 (redis, postgres)"
else
  echo "not root: set the owners as this script does as root (docs/runbook.md, Install)" >&2
fi
