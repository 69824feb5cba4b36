#!/usr/bin/env bash
# Seeds a fresh database with the scale-benchmark territory (cmd/tno-seed:
# 100,000 people, 500 organizations, 2,000 applications by default) and
# times it.
# Usage:
#   scripts/seed.sh sqlite   [DIR]    [tno-seed flags…]   # DIR/tno.db, default /tmp/seed-bench
#   scripts/seed.sh postgres [DBNAME] [tno-seed flags…]   # on 127.0.0.1 as postgres, default seedbench
# Both remove what DIR/tno.db or DBNAME held. Set TNO_SEED_PASSWORD and
# pass -password to give bench.portal and the administrators a password.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
engine=${1:?usage: scripts/seed.sh sqlite|postgres [DIR|DBNAME] [tno-seed flags]}
shift
case $engine in
sqlite)
	dir=${1:-/tmp/seed-bench}
	shift || true
	rm -f "$dir/tno.db" "$dir/tno.db-wal" "$dir/tno.db-shm"
	dsn=$dir/tno.db
	;;
postgres)
	db=${1:-seedbench}
	shift || true
	psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	dsn="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
	;;
*)
	echo "usage: scripts/seed.sh sqlite|postgres [DIR|DBNAME] [tno-seed flags]" >&2
	exit 2
	;;
esac
cd "$repo"
go build -o "${TMPDIR:-/tmp}/tno-seed" ./cmd/tno-seed
time "${TMPDIR:-/tmp}/tno-seed" -database-dsn "$dsn" "$@"
