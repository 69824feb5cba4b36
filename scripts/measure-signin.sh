#!/usr/bin/env bash
# Measures password sign-ins and single sign-on flows against a fresh
# TNO on SQLite, with tno-load: builds tno and tno-load, starts
# `tno serve` on a free loopback port in a temporary directory, creates
# an organization, a person and a first-party application with the CLI,
# then runs `tno-load` (N sign-ins, C at a time) and `tno-load -sso`.
# Usage: scripts/measure-signin.sh [N] [C] [SSO_N] [SSO_C]
# Extra environment (TNO_PASSWORD_MEMORY_KIB…, TNO_SIGNING_ALGORITHM)
# reaches the server.
set -euo pipefail
n=${1:-400} c=${2:-4} sso_n=${3:-3000} sso_c=${4:-8}
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/tno" "$repo/cmd/tno"
go build -o "$tmp/tno-load" "$repo/cmd/tno-load"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
issuer="http://127.0.0.1:$port"
export TNO_DATA_DIR="$tmp/data"
"$tmp/tno" serve --listen "127.0.0.1:$port" --issuer "$issuer" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 1 200); do curl -sf -o /dev/null "$issuer/healthz" && break; sleep 0.05; done
t="$tmp/tno"
"$t" org create --slug metropole --name "Métropole" --siren 200046977 >/dev/null
pw="une phrase de passe pour la charge du serveur"
printf '%s' "$pw" | "$t" person create --username mesure --given-name Mesure --family-name Charge --password-stdin >/dev/null
"$t" membership create --person mesure --org metropole --kind agent >/dev/null
secret=$("$t" app create --org metropole --client-id load --name Charge --type confidential \
	--redirect-uri http://127.0.0.1:9/cb --first-party | sed -n 's/.*secret: *//p')
echo "== $n password sign-ins, $c at a time"
"$tmp/tno-load" -issuer "$issuer" -client load -secret "$secret" -user mesure -password "$pw" -n "$n" -c "$c"
grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
echo "== $sso_n single sign-on flows, $sso_c at a time"
"$tmp/tno-load" -sso -issuer "$issuer" -client load -secret "$secret" -user mesure -password "$pw" -n "$sso_n" -c "$sso_c"
grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
