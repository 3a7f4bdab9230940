-- One role and one database per agency service and one for the staff console: each agency's store is
-- its own (docs/architecture.md), so no role can read another agency's tables. Safe to run again.
-- The passwords are never in this file: psql takes them as variables, e.g. from files only root reads:
--   psql -v ON_ERROR_STOP=1 -U postgres \
--        -v survey_password="$(cat /etc/rehab/credentials/survey-database-password)" ... -f roles.sql
-- (deploy/compose/postgres/init-roles.sh does this from the compose secrets). A role's port is its
-- service's port in deploy/services.toml; tests/deploy check the names against it.
--
-- role        database     service port
-- survey      survey       8101
-- assessment  assessment   8102
-- approval    approval     8103
-- delivery    delivery     8104
-- settlement  settlement   8105
-- console     console      8100

\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', role)
FROM unnest(ARRAY['survey', 'assessment', 'approval', 'delivery', 'settlement', 'console']) AS role
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role)
\gexec

ALTER ROLE survey PASSWORD :'survey_password';
ALTER ROLE assessment PASSWORD :'assessment_password';
ALTER ROLE approval PASSWORD :'approval_password';
ALTER ROLE delivery PASSWORD :'delivery_password';
ALTER ROLE settlement PASSWORD :'settlement_password';
ALTER ROLE console PASSWORD :'console_password';

-- A process stopped inside a transaction (SIGSTOP, a paused VM, a debugger) must not hold its locks for
-- ever: the server ends a transaction of these roles left idle 30 s, freeing its row locks and the
-- outbox's advisory lock, so the other instances publish and the requests waiting on those rows go on
-- (a frozen survey instance stopped every instance's publishing until SIGCONT). Nothing of the services
-- idles that long inside a transaction; settlement's ledger writes are bounded tighter (10 s, ADR 0020).
-- Takes effect for new sessions.
SELECT format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', role, '30s')
FROM unnest(ARRAY['survey', 'assessment', 'approval', 'delivery', 'settlement', 'console']) AS role
\gexec

-- Each database owned by its role: the service's Alembic migrations create and alter its tables at
-- start-up (docs/adr/0018-schema-migrations.md) and take pg_advisory_xact_lock, which needs no grant.
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', name, name, 'UTF8')
FROM unnest(ARRAY['survey', 'assessment', 'approval', 'delivery', 'settlement', 'console']) AS name
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\gexec

-- Nobody but the owner connects to an agency's database.
REVOKE ALL ON DATABASE survey, assessment, approval, delivery, settlement, console FROM PUBLIC;

-- The backup role (deploy/backup/pg-backup.sh) reads every database and nothing else.
SELECT 'CREATE ROLE rehab_backup LOGIN IN ROLE pg_read_all_data'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rehab_backup')
\gexec
GRANT CONNECT ON DATABASE survey, assessment, approval, delivery, settlement, console TO rehab_backup;
