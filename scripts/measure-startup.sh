#!/usr/bin/env bash
# Measures the time from starting `tno serve` to the first 200 answer of
# its discovery endpoint, and its resident memory right after.
# Usage: scripts/measure-startup.sh PATH_TO_TNO DATA_DIR [PORT]
# Run it twice on the same DATA_DIR: the first run is a first start
# (signing key, first administrator), the second a restart.
set -euo pipefail
tno=$1 dir=$2 port=${3:-18080}
start=$(date +%s%N)
"$tno" serve --data-dir "$dir" --listen "127.0.0.1:$port" --issuer "http://127.0.0.1:$port" >"$dir.out" 2>"$dir.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 5000); do
	curl -sf -o /dev/null "http://127.0.0.1:$port/.well-known/openid-configuration" && break
	sleep 0.002
done
end=$(date +%s%N)
echo "first discovery answer after $(((end - start) / 1000000)) ms"
sleep 1
grep VmRSS "/proc/$pid/status"
