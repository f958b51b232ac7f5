#!/usr/bin/env bash
# Start a local PostgreSQL for the ledger tests and print the connection
# string. Installs Debian's postgresql when missing. Loopback only.
# `postgres.sh install`: only install it (.ci/provision.sh).
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
fi
[ "${1:-}" = install ] && exit 0
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$ver main$"; then
  pg_createcluster "$ver" main >&2
fi
pg_ctlcluster "$ver" main start >&2 || true
for _ in $(seq 1 30); do
  pg_isready -q -h localhost && break
  sleep 1
done
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname = 'lantian'\" | grep -q 1 || psql -q -c \"CREATE ROLE lantian LOGIN PASSWORD 'lantian'\"" >&2
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname = 'lantian_test'\" | grep -q 1 || psql -q -c \"CREATE DATABASE lantian_test OWNER lantian\"" >&2
echo "host=localhost user=lantian password=lantian dbname=lantian_test"
