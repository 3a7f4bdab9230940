#!/usr/bin/env bash
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d): the roles and
# databases of deploy/postgresql/roles.sql, with passwords from the compose secrets.
set -euo pipefail

secrets_dir="${REHAB_SECRETS_DIR:-/run/secrets}"
variables=()
for role in survey assessment approval delivery settlement console; do
  file="$secrets_dir/${role}_database_password"
  if [[ ! -r "$file" ]]; then
    echo "init-roles: missing secret $file (deploy/compose/prepare-secrets.sh makes it)" >&2
    exit 1
  fi
  variables+=(-v "${role}_password=$(<"$file")")
done
psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  "${variables[@]}" -f /etc/rehab/postgresql/roles.sql
