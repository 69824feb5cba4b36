#!/usr/bin/env bash
# Browser end-to-end tests of TNO's sign-in pages (internal/authflow and
# internal/web/templates), driven by Debian's chromium through
# playwright-core: the sign-in with its organization chooser, the second
# factor (authenticator app and recovery codes), keyboard-only use, use
# without JavaScript, axe-core on every page reached (French and English,
# 1280 px and 320 px wide), and the README's screenshots
# (docs/screenshots/*.png); then passkeys (WebAuthn) with Chromium's
# virtual authenticator, on a second TNO whose issuer is
# http://localhost:PORT (TNO offers passkeys only on a host name); then
# the administration console (internal/admin) on a third, fresh TNO,
# from its first platform administrator's one-time password to two
# communes, their administrators, 50 imported agents and an application.
#
# Usage: bash e2e/run.sh   (as root on Debian 12, from anywhere)
# It installs what is missing (chromium and curl from Debian; node modules
# from e2e/package-lock.json), builds tno, starts it on a fresh SQLite data
# directory on a free loopback port with a territory's name, logo, help and
# footer links, provisions people and applications with the tno CLI, runs
# e2e/signin.mjs (which also serves the applications' callback), then
# e2e/passkeys.mjs against a second TNO (its own data directory, issuer
# http://localhost:PORT), e2e/console.mjs against a third (a fresh data
# directory: its first start prints the platform administrator's
# one-time password, read from its log), stops everything and prints
# "e2e: N passed, M failed". Exit status 0 only if nothing failed.
#
# E2E_TNO_BIN=path uses that tno binary instead of building one;
# E2E_KEEP=1 keeps the temporary directory; E2E_SCREENSHOTS=dir writes the
# screenshots there instead of docs/screenshots (E2E_SCREENSHOTS=none:
# none are written). E2E_SUITES="signin passkeys console" (the default)
# chooses the test files run, in that order (the console's TNO is started
# only when its suite runs).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
HERE=$REPO/e2e
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"

started=$SECONDS
say() { echo "e2e: $*"; }
die() {
	echo "e2e: error: $*" >&2
	exit 1
}

WORK=""
TNO_PID=""
PK_PID=""
CONSOLE_PID=""
passed=0
failed=0

# print_logs [LOG...] shows the end of TNO's logs (both by default).
print_logs() {
	[[ -n "$WORK" ]] || return 0
	local logs=("$@")
	((${#logs[@]})) || logs=("$WORK/tno.log" "$WORK/tno-passkeys.log" "$WORK/tno-console.log")
	for log in "${logs[@]}"; do
		[[ -s "$log" ]] || continue
		echo "----- $log (last 150 lines)"
		tail -n 150 "$log"
		echo "-----"
	done
}

# stop_pid PID stops a tno serve this script started.
stop_pid() {
	[[ -n "$1" ]] || return 0
	kill "$1" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

stop_tno() {
	stop_pid "$TNO_PID"
	TNO_PID=""
	stop_pid "$PK_PID"
	PK_PID=""
	stop_pid "$CONSOLE_PID"
	CONSOLE_PID=""
}

cleanup() {
	local rc=$?
	set +e
	if [[ $rc -ne 0 && $passed -eq 0 && $failed -eq 0 ]]; then
		print_logs
	fi
	stop_tno
	if [[ -n "$WORK" ]]; then
		if [[ "${E2E_KEEP:-0}" == 1 ]]; then
			say "kept $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	if [[ $rc -ne 0 && $passed -eq 0 && $failed -eq 0 ]]; then
		# Failed before the tests ran (setup): still one summary line.
		echo "e2e: 0 passed, 1 failed (setup failed, $((SECONDS - started))s)"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SUITES=${E2E_SUITES:-signin passkeys console}
for suite in $SUITES; do
	case $suite in
	signin | passkeys | console) ;;
	*) die "unknown suite $suite in E2E_SUITES (signin, passkeys, console)" ;;
	esac
done
wants() { [[ " $SUITES " == *" $1 "* ]]; }

# ---------------------------------------------------------------- packages

apt_install() {
	say "installing from Debian: $*"
	local need_update=""
	for p in "$@"; do
		if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
			need_update=1
		fi
	done
	if [[ -n "$need_update" ]]; then
		apt-get update -q
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; then
		# Stale package lists (a security update replaced a version).
		apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
	fi
}

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
missing=()
[[ -x $CHROMIUM ]] || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
	apt_install "${missing[@]}"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	die "Node.js >= 20 and npm are required (playwright-core needs Node 20)"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js >= 20 is required, found $(node --version)"

# Node modules, exactly as locked; reinstalled only when the lock changed.
lock_sum=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [[ "$(cat "$HERE/node_modules/.e2e-lock" 2>/dev/null)" != "$lock_sum" ]]; then
	say "npm ci in e2e/"
	(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
	echo "$lock_sum" >"$HERE/node_modules/.e2e-lock"
fi

say "$("$CHROMIUM" --version 2>/dev/null | head -1 | sed 's/ built on.*//'), node $(node --version)," \
	"playwright-core $(node -p "require('$HERE/node_modules/playwright-core/package.json').version")," \
	"axe-core $(node -p "require('$HERE/node_modules/axe-core/package.json').version")"

# ------------------------------------------------------------------ set-up

WORK=$(mktemp -d /tmp/tno-e2e.XXXXXX)

if [[ -n "${E2E_TNO_BIN:-}" ]]; then
	say "using $E2E_TNO_BIN"
	install -m 755 "$E2E_TNO_BIN" "$WORK/tno"
else
	say "building tno"
	go build -o "$WORK/tno" ./cmd/tno
fi

mapfile -t ports < <(node "$HERE/free-ports.mjs" 4)
((${#ports[@]} == 4)) || die "could not pick free ports"
TNO_PORT=${ports[0]}
CALLBACK_PORT=${ports[1]}
PK_PORT=${ports[2]}
CONSOLE_PORT=${ports[3]}
ISSUER=http://127.0.0.1:$TNO_PORT
CALLBACK_URI=http://127.0.0.1:$CALLBACK_PORT/callback

random_secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }

# tno refuses unknown TNO_* variables (e.g. .ci/run's TNO_TEST_RACE): start
# from none, then set exactly ours.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^TNO_' || true)
# Fast password hashing for tests (argon2id, still valid parameters).
export TNO_PASSWORD_MEMORY_KIB=7168 TNO_PASSWORD_ITERATIONS=5 TNO_PASSWORD_PARALLELISM=1
export TNO_DATA_DIR=$WORK/data TNO_ISSUER=$ISSUER TNO_LISTEN=127.0.0.1:$TNO_PORT
# The territory the pages present (internal/config/territory.go).
TERRITORY_NAME="Syndicat intercommunal du Val de Seine"
export TNO_TERRITORY_NAME=$TERRITORY_NAME
export TNO_TERRITORY_LOGO_FILE=$HERE/logo.svg
export TNO_TERRITORY_SUPPORT="Support informatique : 01 23 45 67 89 (du lundi au vendredi, 8 h 30 – 17 h 30)"
export TNO_TERRITORY_SUPPORT_URL=https://support.val-de-seine.example.org/
export TNO_TERRITORY_LEGAL_NOTICE_URL=https://www.val-de-seine.example.org/mentions-legales
export TNO_TERRITORY_PERSONAL_DATA_URL=https://www.val-de-seine.example.org/donnees-personnelles
export TNO_TERRITORY_ACCESSIBILITY_URL=https://www.val-de-seine.example.org/accessibilite
export TNO_TERRITORY_ACCESSIBILITY_STATUS=partial
tno() { "$WORK/tno" "$@"; }

say "provisioning TNO ($TNO_DATA_DIR)"
tno org create --slug val-de-seine --name "Syndicat intercommunal du Val de Seine" \
	--siren 200046977 --siret 20004697700019 >/dev/null
tno org create --slug ville --name "Ville de Bords-de-Seine" --siren 216901231 --siret 21690123100011 >/dev/null

# person PASSWORD USERNAME GIVEN FAMILY EMAIL creates a person.
person() {
	printf '%s\n' "$1" | tno person create --username "$2" --given-name "$3" --family-name "$4" \
		--email "$5" --email-verified --password-stdin >/dev/null
}

# Marie Martin: an agent of the syndicate and an élue of the city, so the
# sign-in into an application open to both shows the chooser.
CHOOSER_USER=mmartin
CHOOSER_PASSWORD="E2e-$(random_secret)"
person "$CHOOSER_PASSWORD" "$CHOOSER_USER" Marie Martin marie.martin@val-de-seine.example.org
tno membership create --person "$CHOOSER_USER" --org val-de-seine --kind agent --service "Direction du numérique" \
	--title "Cheffe de projet" >/dev/null
tno membership create --person "$CHOOSER_USER" --org ville --kind elu >/dev/null
tno mandate add --person "$CHOOSER_USER" --org ville --function "Adjointe au maire déléguée au numérique" \
	--from "$(date +%Y-%m-%d)" >/dev/null

# People who enrol an authenticator app (one per language: enrolling
# changes what their sign-in asks), one membership each.
TOTP_USER_FR=jdupont
TOTP_USER_EN=asimon
TOTP_PASSWORD_FR="E2e-$(random_secret)"
TOTP_PASSWORD_EN="E2e-$(random_secret)"
person "$TOTP_PASSWORD_FR" "$TOTP_USER_FR" Jeanne Dupont jeanne.dupont@val-de-seine.example.org
person "$TOTP_PASSWORD_EN" "$TOTP_USER_EN" Alain Simon alain.simon@val-de-seine.example.org
tno membership create --person "$TOTP_USER_FR" --org val-de-seine --kind agent --service "Direction des finances" >/dev/null
tno membership create --person "$TOTP_USER_EN" --org val-de-seine --kind agent --service "Service des eaux" >/dev/null

# People whose password is temporary (the forced change page), one per
# language.
TEMP_USER_FR=lbernard
TEMP_USER_EN=pmoreau
TEMP_PASSWORD_FR="E2e-$(random_secret)"
TEMP_PASSWORD_EN="E2e-$(random_secret)"
person "$(random_secret)" "$TEMP_USER_FR" Lucie Bernard lucie.bernard@val-de-seine.example.org
person "$(random_secret)" "$TEMP_USER_EN" Paul Moreau paul.moreau@val-de-seine.example.org
printf '%s\n' "$TEMP_PASSWORD_FR" | tno person set-password --username "$TEMP_USER_FR" --password-stdin --temporary >/dev/null
printf '%s\n' "$TEMP_PASSWORD_EN" | tno person set-password --username "$TEMP_USER_EN" --password-stdin --temporary >/dev/null
tno membership create --person "$TEMP_USER_FR" --org val-de-seine --kind agent >/dev/null
tno membership create --person "$TEMP_USER_EN" --org val-de-seine --kind agent >/dev/null

# Someone with no membership: no application lets them in.
OUTSIDER_USER=rlefevre
OUTSIDER_PASSWORD="E2e-$(random_secret)"
person "$OUTSIDER_PASSWORD" "$OUTSIDER_USER" Romain Lefèvre romain.lefevre@exemple.org

# app_create prints the client secret of a new confidential application.
app_create() {
	if ! tno app create --org val-de-seine --type confidential --redirect-uri "$CALLBACK_URI" "$@" \
		>"$WORK/app.out" 2>"$WORK/app.err"; then
		cat "$WORK/app.out" "$WORK/app.err" >&2
		return 1
	fi
	sed -n 's/^client_secret: //p' "$WORK/app.out"
}
# The territory's own application, open to the city's people too: no
# consent, the chooser for Marie Martin.
APP_CLIENT=e2e-parapheur
APP_NAME="Parapheur électronique"
APP_SECRET=$(app_create --client-id "$APP_CLIENT" --name "$APP_NAME" --first-party --grant-org ville)
# A third-party application: the consent page.
CONSENT_CLIENT=e2e-agenda
CONSENT_NAME="Agenda partagé"
CONSENT_SECRET=$(app_create --client-id "$CONSENT_CLIENT" --name "$CONSENT_NAME")
[[ -n "$APP_SECRET" && -n "$CONSENT_SECRET" ]] || die "tno app create printed no client_secret"

# The passkeys' TNO: a second one, on its own data directory, whose issuer
# is a host name, since TNO turns passkeys (WebAuthn) on only then (an IP
# address cannot be a WebAuthn rp ID). It listens on 127.0.0.1; Chromium
# resolves localhost to loopback and treats http://localhost as a secure
# context. Same territory and settings; its own people and application.
PK_ISSUER=http://localhost:$PK_PORT
export TNO_DATA_DIR=$WORK/pk-data TNO_ISSUER=$PK_ISSUER TNO_LISTEN=127.0.0.1:$PK_PORT
say "provisioning the passkeys' TNO ($TNO_DATA_DIR)"
tno org create --slug val-de-seine --name "Syndicat intercommunal du Val de Seine" \
	--siren 200046977 --siret 20004697700019 >/dev/null
# Claire Petit adds a passkey; Nicolas Roux has none (password only).
PK_USER=cpetit
PK_PASSWORD="E2e-$(random_secret)"
PK_PLAIN_USER=nroux
PK_PLAIN_PASSWORD="E2e-$(random_secret)"
person "$PK_PASSWORD" "$PK_USER" Claire Petit claire.petit@val-de-seine.example.org
person "$PK_PLAIN_PASSWORD" "$PK_PLAIN_USER" Nicolas Roux nicolas.roux@val-de-seine.example.org
tno membership create --person "$PK_USER" --org val-de-seine --kind agent --service "Direction du numérique" >/dev/null
tno membership create --person "$PK_PLAIN_USER" --org val-de-seine --kind agent --service "Service des eaux" >/dev/null
PK_APP_CLIENT=e2e-parapheur
PK_APP_SECRET=$(app_create --client-id "$PK_APP_CLIENT" --name "$APP_NAME" --first-party)
[[ -n "$PK_APP_SECRET" ]] || die "tno app create printed no client_secret"

# start_tno LOG DATA_DIR ISSUER LISTEN starts a tno serve in the background
# (its process ID in $started_pid).
start_tno() {
	say "starting TNO on $3"
	TNO_DATA_DIR=$2 TNO_ISSUER=$3 TNO_LISTEN=$4 "$WORK/tno" serve >"$1" 2>&1 &
	started_pid=$!
}
# wait_tno PID ISSUER waits until that TNO answers.
wait_tno() {
	for _ in $(seq 1 150); do
		kill -0 "$1" 2>/dev/null || die "tno serve ($2) exited"
		if curl -fs -o /dev/null --max-time 2 "$2/.well-known/openid-configuration"; then
			return 0
		fi
		sleep 0.1
	done
	die "TNO did not answer on $2 within 15 s"
}
start_tno "$WORK/tno.log" "$WORK/data" "$ISSUER" "127.0.0.1:$TNO_PORT"
TNO_PID=$started_pid
start_tno "$WORK/tno-passkeys.log" "$WORK/pk-data" "$PK_ISSUER" "127.0.0.1:$PK_PORT"
PK_PID=$started_pid
# The console's TNO: nothing provisioned, an empty data directory. Its
# first start creates the platform administrator and prints their
# one-time password (README, Quick start), which the suite signs in with.
CONSOLE_ISSUER=http://127.0.0.1:$CONSOLE_PORT
if wants console; then
	start_tno "$WORK/tno-console.log" "$WORK/console-data" "$CONSOLE_ISSUER" "127.0.0.1:$CONSOLE_PORT"
	CONSOLE_PID=$started_pid
fi
wait_tno "$TNO_PID" "$ISSUER"
wait_tno "$PK_PID" "$PK_ISSUER"
CONSOLE_ADMIN_USER=""
CONSOLE_ADMIN_PASSWORD=""
if wants console; then
	wait_tno "$CONSOLE_PID" "$CONSOLE_ISSUER"
	CONSOLE_ADMIN_USER=$(sed -n 's/^  identifier: //p' "$WORK/tno-console.log" | head -1)
	CONSOLE_ADMIN_PASSWORD=$(sed -n 's/^  password: *//p' "$WORK/tno-console.log" | head -1)
	[[ -n "$CONSOLE_ADMIN_USER" && -n "$CONSOLE_ADMIN_PASSWORD" ]] ||
		die "the console's TNO did not print its first administrator's password ($WORK/tno-console.log)"
fi
say "set-up done in $((SECONDS - started))s"

# ------------------------------------------------------------------- tests

SCREENSHOT_DIR=${E2E_SCREENSHOTS:-$REPO/docs/screenshots}
[[ "$SCREENSHOT_DIR" == none ]] || mkdir -p "$SCREENSHOT_DIR"
mkdir -p "$WORK/tmp"
export TMPDIR=$WORK/tmp # the browsers' profiles, removed with WORK
export TNO_ISSUER=$ISSUER CALLBACK_PORT CHROMIUM SCREENSHOT_DIR TERRITORY_NAME \
	APP_CLIENT APP_SECRET APP_NAME CONSENT_CLIENT CONSENT_SECRET CONSENT_NAME \
	CHOOSER_USER CHOOSER_PASSWORD TOTP_USER_FR TOTP_PASSWORD_FR TOTP_USER_EN TOTP_PASSWORD_EN \
	TEMP_USER_FR TEMP_PASSWORD_FR TEMP_USER_EN TEMP_PASSWORD_EN OUTSIDER_USER OUTSIDER_PASSWORD \
	PK_ISSUER PK_APP_CLIENT PK_APP_SECRET PK_USER PK_PASSWORD PK_PLAIN_USER PK_PLAIN_PASSWORD \
	CONSOLE_ISSUER CONSOLE_ADMIN_USER CONSOLE_ADMIN_PASSWORD
unset TNO_DATA_DIR TNO_LISTEN

# run_suite NAME LOG runs e2e/NAME.mjs (run one after the other: each
# serves the applications' callback on CALLBACK_PORT) and adds its PASS
# and FAIL lines to the totals; LOG is the TNO log shown on a failure.
run_suite() {
	local out=$WORK/$1.out rc=0 t0=$SECONDS p f
	say "running $1.mjs"
	(cd "$HERE" && timeout -k 5 110 node "$1.mjs") 2>&1 | tee "$out" || rc=$?
	p=$(grep -c '^PASS ' "$out" || true)
	f=$(grep -c '^FAIL ' "$out" || true)
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		echo "FAIL $1.mjs: exited with status $rc"
		f=1
	fi
	say "$1.mjs: $p passed, $f failed ($((SECONDS - t0))s)"
	if ((f)); then
		print_logs "$2"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

for suite in $SUITES; do
	case $suite in
	signin) run_suite signin "$WORK/tno.log" ;;
	passkeys) run_suite passkeys "$WORK/tno-passkeys.log" ;;
	console) run_suite console "$WORK/tno-console.log" ;;
	esac
done
echo "e2e: $passed passed, $failed failed ($((SECONDS - started))s)"
((failed == 0))
