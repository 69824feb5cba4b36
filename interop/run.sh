#!/usr/bin/env bash
# Interoperability test of TNO against relying parties other people wrote:
#   - Apache mod_auth_openidc (Debian's libapache2-mod-auth-openidc), two
#     protected applications, driven by Debian's chromium (playwright-core);
#   - the npm openid-client library (v6): confidential and public clients,
#     refresh, revocation, introspection, client_credentials, PAR,
#     private_key_jwt, RP-initiated logout, pairwise and signed userinfo;
#   - back-channel and RP-initiated logout with mod_auth_openidc.
# Everything talks to 127.0.0.1 only, on ports chosen free at run time.
#
# Usage: bash interop/run.sh   (as root on Debian 12, from anywhere)
# It installs what is missing (apache2, libapache2-mod-auth-openidc,
# chromium, curl from Debian; node modules from interop/package-lock.json),
# builds tno, starts TNO on a fresh SQLite data directory and its own
# Apache (own config, pid file and logs under a temporary directory; the
# system Apache and port 80 are left alone), runs interop/apache.mjs and
# interop/openid-client.mjs, stops everything and prints
# "interop: N passed, M failed". Exit status 0 only if nothing failed.
#
# INTEROP_TNO_BIN=path uses that tno binary instead of building one;
# INTEROP_KEEP=1 keeps the temporary directory; INTEROP_DEBUG=1 logs
# mod_auth_openidc at debug level.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
HERE=$REPO/interop
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"

started=$SECONDS
say() { echo "interop: $*"; }
die() {
	echo "interop: error: $*" >&2
	exit 1
}

WORK=""
TNO_PID=""
APACHE_CONF=""
POLICY_RC_CREATED=""
passed=0
failed=0

print_logs() {
	[[ -n "$WORK" ]] || return 0
	local f
	for f in "$WORK/tno.log" "$WORK/apache/logs/error.log" "$WORK/apache/logs/access.log"; do
		if [[ -s "$f" ]]; then
			echo "----- $f (last 150 lines)"
			tail -n 150 "$f"
		fi
	done
	echo "-----"
}

stop_apache() {
	[[ -n "$APACHE_CONF" ]] || return 0
	local pidfile=$WORK/apache/run/httpd.pid pid=""
	[[ -s "$pidfile" ]] && pid=$(cat "$pidfile")
	apache2 -f "$APACHE_CONF" -k stop >/dev/null 2>&1 || true
	if [[ -n "$pid" ]]; then
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	APACHE_CONF=""
}

stop_tno() {
	[[ -n "$TNO_PID" ]] || return 0
	kill "$TNO_PID" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$TNO_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$TNO_PID" 2>/dev/null || true
	wait "$TNO_PID" 2>/dev/null || true
	TNO_PID=""
}

cleanup() {
	local rc=$?
	set +e
	if [[ -n "$POLICY_RC_CREATED" ]]; then
		rm -f /usr/sbin/policy-rc.d
	fi
	if [[ $rc -ne 0 && $passed -eq 0 && $failed -eq 0 ]]; then
		print_logs
	fi
	stop_apache
	stop_tno
	if [[ -n "$WORK" ]]; then
		if [[ "${INTEROP_KEEP:-0}" == 1 ]]; then
			say "kept $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	if [[ $rc -ne 0 && $passed -eq 0 && $failed -eq 0 ]]; then
		# Failed before the tests ran (setup): still one summary line.
		echo "interop: 0 passed, 1 failed (setup failed, $((SECONDS - started))s)"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- packages

# apt_install installs Debian packages without starting their services:
# where no policy-rc.d exists, one denying every start is put in place for
# the installation (apache2 would otherwise start on port 80).
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
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# interop/run.sh: no service starts during its installation\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		POLICY_RC_CREATED=1
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; then
		# Stale package lists (a security update replaced a version).
		apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
	fi
	if [[ -n "$POLICY_RC_CREATED" ]]; then
		rm -f /usr/sbin/policy-rc.d
		POLICY_RC_CREATED=""
	fi
}

MODULES=/usr/lib/apache2/modules
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
missing=()
command -v apache2 >/dev/null || [[ -x /usr/sbin/apache2 ]] || missing+=(apache2)
[[ -f $MODULES/mod_auth_openidc.so ]] || missing+=(libapache2-mod-auth-openidc)
[[ -x $CHROMIUM ]] || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
	apt_install "${missing[@]}"
fi
export PATH="$PATH:/usr/sbin"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	die "Node.js >= 20 and npm are required (playwright-core and openid-client v6 need Node 20)"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js >= 20 is required, found $(node --version)"

# Node modules, exactly as locked; reinstalled only when the lock changed.
lock_sum=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [[ "$(cat "$HERE/node_modules/.interop-lock" 2>/dev/null)" != "$lock_sum" ]]; then
	say "npm ci in interop/"
	(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
	echo "$lock_sum" >"$HERE/node_modules/.interop-lock"
fi

say "peers: $(apache2 -v | sed -n 's/^Server version: //p'), mod_auth_openidc $(dpkg-query -W -f '${Version}' libapache2-mod-auth-openidc 2>/dev/null || echo '?')," \
	"$("$CHROMIUM" --version 2>/dev/null | head -1 | sed 's/ built on.*//')," \
	"node $(node --version), openid-client $(node -p "require('$HERE/node_modules/openid-client/package.json').version")," \
	"playwright-core $(node -p "require('$HERE/node_modules/playwright-core/package.json').version")"

# ------------------------------------------------------------------ set-up

WORK=$(mktemp -d /tmp/tno-interop.XXXXXX)
chmod 755 "$WORK" # Apache's children (www-data) run the CGI script in it

if [[ -n "${INTEROP_TNO_BIN:-}" ]]; then
	say "using $INTEROP_TNO_BIN"
	install -m 755 "$INTEROP_TNO_BIN" "$WORK/tno"
else
	say "building tno"
	go build -o "$WORK/tno" ./cmd/tno
fi

mapfile -t ports < <(node "$HERE/free-ports.mjs" 4)
((${#ports[@]} == 4)) || die "could not pick free ports"
TNO_PORT=${ports[0]}
APP_ONE_PORT=${ports[1]}
APP_TWO_PORT=${ports[2]}
CALLBACK_PORT=${ports[3]}
ISSUER=http://127.0.0.1:$TNO_PORT
APP_ONE_URL=http://127.0.0.1:$APP_ONE_PORT
APP_TWO_URL=http://127.0.0.1:$APP_TWO_PORT

random_secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }

# tno refuses unknown TNO_* variables (e.g. .ci/run's TNO_TEST_RACE): start
# from none, then set exactly ours.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^TNO_' || true)
# Fast password hashing for tests (argon2id, still valid parameters).
export TNO_PASSWORD_MEMORY_KIB=7168 TNO_PASSWORD_ITERATIONS=5 TNO_PASSWORD_PARALLELISM=1
export TNO_DATA_DIR=$WORK/data TNO_ISSUER=$ISSUER TNO_LISTEN=127.0.0.1:$TNO_PORT
tno() { "$WORK/tno" "$@"; }

USER_NAME=jdupont
USER_PASSWORD="Interop-$(random_secret)"
USER_EMAIL=jeanne.dupont@exemple.fr
USER_GIVEN_NAME=Jeanne
USER_FAMILY_NAME=Dupont
ORG_SIRET=20004697700019

say "provisioning TNO ($TNO_DATA_DIR)"
tno org create --slug metropole --name "Métropole Exemple" --siren 200046977 --siret "$ORG_SIRET" >/dev/null
printf '%s\n' "$USER_PASSWORD" | tno person create --username "$USER_NAME" --given-name "$USER_GIVEN_NAME" \
	--family-name "$USER_FAMILY_NAME" --email "$USER_EMAIL" --email-verified --password-stdin >/dev/null
tno membership create --person "$USER_NAME" --org metropole --kind agent --service "Direction du numérique" >/dev/null

# person_id prints the id of a person (the "sub" TNO gives them).
person_id() {
	tno person show --json --username "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))'
}
USER_SUB=$(person_id "$USER_NAME")
[[ -n "$USER_SUB" ]] || die "no id for $USER_NAME"

# A second person with two memberships, in two organizations: signing into
# an application open to both, they choose which one they act for.
COMMUNE_NAME="Ville d'Exemple"
COMMUNE_SIRET=21690123100011
SECOND_USER_NAME=mmartin
SECOND_USER_PASSWORD="Interop-$(random_secret)"
tno org create --slug ville --name "$COMMUNE_NAME" --siren 216901231 --siret "$COMMUNE_SIRET" >/dev/null
printf '%s\n' "$SECOND_USER_PASSWORD" | tno person create --username "$SECOND_USER_NAME" --given-name Marie \
	--family-name Martin --email marie.martin@exemple.fr --email-verified --password-stdin >/dev/null
tno membership create --person "$SECOND_USER_NAME" --org metropole --kind agent --service "Direction des finances" >/dev/null
tno membership create --person "$SECOND_USER_NAME" --org ville --kind elu >/dev/null
tno mandate add --person "$SECOND_USER_NAME" --org ville --function "Adjointe au maire" --from "$(date +%Y-%m-%d)" >/dev/null
SECOND_USER_SUB=$(person_id "$SECOND_USER_NAME")
[[ -n "$SECOND_USER_SUB" ]] || die "no id for $SECOND_USER_NAME"

# app_create prints the client secret of a new application (the CLI's
# other lines and its "shown once" notice go to a file).
app_create() {
	if ! tno app create --org metropole --first-party "$@" >"$WORK/app.out" 2>"$WORK/app.err"; then
		cat "$WORK/app.out" "$WORK/app.err" >&2
		return 1
	fi
	sed -n 's/^client_secret: //p' "$WORK/app.out"
}
CLIENT_ONE=apache-app-one
CLIENT_TWO=apache-app-two
NODE_CLIENT=node-openid-client
NODE_PUBLIC_CLIENT=node-openid-client-public
NODE_REFRESH_CLIENT=node-openid-client-refresh
NODE_M2M_CLIENT=node-openid-client-m2m
NODE_PAR_CLIENT=node-openid-client-par
NODE_PKJWT_CLIENT=node-openid-client-pkjwt
NODE_PAIRWISE_CLIENT=node-openid-client-pairwise
CALLBACK_URI=http://127.0.0.1:$CALLBACK_PORT/callback
# Application one sends the browser back to a page of its own after
# signing out (mod_auth_openidc's logout); application two is told of
# sign-outs by TNO's back channel, at mod_auth_openidc's endpoint for it.
APP_ONE_LOGGED_OUT_URL=$APP_ONE_URL/loggedout.html
APP_TWO_BACKCHANNEL_URL="$APP_TWO_URL/protected/redirect_uri?logout=backchannel"
SECRET_ONE=$(app_create --client-id "$CLIENT_ONE" --name "Application Apache un" --grant-org ville \
	--redirect-uri "$APP_ONE_URL/protected/redirect_uri" --post-logout-redirect-uri "$APP_ONE_LOGGED_OUT_URL")
SECRET_TWO=$(app_create --client-id "$CLIENT_TWO" --name "Application Apache deux" \
	--redirect-uri "$APP_TWO_URL/protected/redirect_uri" --backchannel-logout-uri "$APP_TWO_BACKCHANNEL_URL")
NODE_CLIENT_SECRET=$(app_create --client-id "$NODE_CLIENT" --name "openid-client" --redirect-uri "$CALLBACK_URI" \
	--post-logout-redirect-uri "http://127.0.0.1:$CALLBACK_PORT/logged-out")
app_create --client-id "$NODE_PUBLIC_CLIENT" --name "openid-client (public)" --type public \
	--redirect-uri "$CALLBACK_URI" >/dev/null
NODE_REFRESH_SECRET=$(app_create --client-id "$NODE_REFRESH_CLIENT" --name "openid-client (refresh)" \
	--redirect-uri "$CALLBACK_URI" --grant-type refresh_token)
NODE_M2M_SECRET=$(app_create --client-id "$NODE_M2M_CLIENT" --name "openid-client (machine)" \
	--redirect-uri "$CALLBACK_URI" --grant-type client_credentials \
	--client-credentials-scope siret --client-credentials-scope siren)
NODE_PAR_SECRET=$(app_create --client-id "$NODE_PAR_CLIENT" --name "openid-client (PAR)" \
	--redirect-uri "$CALLBACK_URI" --require-par)
NODE_PAIRWISE_SECRET=$(app_create --client-id "$NODE_PAIRWISE_CLIENT" --name "openid-client (pairwise)" \
	--redirect-uri "$CALLBACK_URI" --subject-type pairwise --userinfo-signed-alg RS256)
# private_key_jwt: the key pair is made by Node, TNO gets the public JWK Set.
NODE_PKJWT_KEY=$WORK/client-key/private.jwk
node "$HERE/client-key.mjs" "$WORK/client-key"
app_create --client-id "$NODE_PKJWT_CLIENT" --name "openid-client (private_key_jwt)" \
	--redirect-uri "$CALLBACK_URI" --token-auth-method private_key_jwt --jwks-file "$WORK/client-key/jwks.json" >/dev/null
for s in "$SECRET_ONE" "$SECRET_TWO" "$NODE_CLIENT_SECRET" "$NODE_REFRESH_SECRET" "$NODE_M2M_SECRET" \
	"$NODE_PAR_SECRET" "$NODE_PAIRWISE_SECRET"; do
	[[ -n "$s" ]] || die "tno app create printed no client_secret"
done

say "starting TNO on $ISSUER"
"$WORK/tno" serve >"$WORK/tno.log" 2>&1 &
TNO_PID=$!
ready=""
for _ in $(seq 1 150); do
	kill -0 "$TNO_PID" 2>/dev/null || die "tno serve exited"
	if curl -fs -o /dev/null --max-time 2 "$ISSUER/.well-known/openid-configuration"; then
		ready=1
		break
	fi
	sleep 0.1
done
[[ -n "$ready" ]] || die "TNO did not answer on $ISSUER within 15 s"

say "starting Apache on $APP_ONE_URL and $APP_TWO_URL"
A=$WORK/apache
mkdir -p "$A/run" "$A/logs" "$A/htdocs/protected"
install -m 755 "$HERE/claims.cgi" "$A/htdocs/protected/claims.cgi"
# Where application one sends the browser after its sign-out (not protected).
printf '<!doctype html>\n<title>Signed out</title>\n<p>PAGE=loggedout</p>\n' >"$A/htdocs/loggedout.html"
chmod -R a+rX "$A/htdocs"
APACHE_USER=www-data APACHE_GROUP=www-data
id www-data >/dev/null 2>&1 || APACHE_USER=nobody APACHE_GROUP=nogroup
oidc_log=info
[[ "${INTEROP_DEBUG:-0}" == 1 ]] && oidc_log=debug
sed -e "s|@ROOT@|$A|g" -e "s|@MODULES@|$MODULES|g" -e "s|@ISSUER@|$ISSUER|g" \
	-e "s|@PASSPHRASE@|$(random_secret)|g" -e "s|@USER@|$APACHE_USER|g" -e "s|@GROUP@|$APACHE_GROUP|g" \
	-e "s|@PORT_ONE@|$APP_ONE_PORT|g" -e "s|@PORT_TWO@|$APP_TWO_PORT|g" \
	-e "s|@CLIENT_ONE@|$CLIENT_ONE|g" -e "s|@CLIENT_TWO@|$CLIENT_TWO|g" \
	-e "s|@SECRET_ONE@|$SECRET_ONE|g" -e "s|@SECRET_TWO@|$SECRET_TWO|g" \
	-e "s|@OIDC_LOG_LEVEL@|$oidc_log|g" \
	"$HERE/apache.conf.tmpl" >"$A/apache.conf"
if grep -n '@[A-Z_]*@' "$A/apache.conf"; then
	die "unreplaced placeholder in apache.conf"
fi
apache2 -f "$A/apache.conf" -t 2>&1 | sed 's/^/apache2 -t: /'
APACHE_CONF=$A/apache.conf
apache2 -f "$APACHE_CONF" -k start
ready=""
for _ in $(seq 1 100); do
	code1=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$APP_ONE_URL/" || true)
	code2=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$APP_TWO_URL/" || true)
	if [[ "$code1" != 000 && "$code2" != 000 ]]; then
		ready=1
		break
	fi
	sleep 0.1
done
[[ -n "$ready" ]] || die "Apache did not answer within 10 s"
say "set-up done in $((SECONDS - started))s"

# ------------------------------------------------------------------- tests

mkdir -p "$WORK/tmp"
export TMPDIR=$WORK/tmp # the browsers' profiles, removed with WORK
export TNO_ISSUER=$ISSUER APP_ONE_URL APP_TWO_URL CLIENT_ONE CLIENT_TWO \
	APP_ONE_LOGGED_OUT_URL APP_TWO_BACKCHANNEL_URL APACHE_ACCESS_LOG="$A/logs/access.log" \
	NODE_CLIENT NODE_CLIENT_SECRET NODE_PUBLIC_CLIENT CALLBACK_PORT \
	NODE_REFRESH_CLIENT NODE_REFRESH_SECRET NODE_M2M_CLIENT NODE_M2M_SECRET NODE_PAR_CLIENT NODE_PAR_SECRET \
	NODE_PAIRWISE_CLIENT NODE_PAIRWISE_SECRET NODE_PKJWT_CLIENT NODE_PKJWT_KEY \
	USER_NAME USER_PASSWORD USER_SUB USER_EMAIL USER_GIVEN_NAME USER_FAMILY_NAME ORG_SIRET CHROMIUM \
	SECOND_USER_NAME SECOND_USER_PASSWORD SECOND_USER_SUB COMMUNE_NAME COMMUNE_SIRET

# run_suite runs one node script under a time limit and counts its PASS and
# FAIL lines; a script that fails without a FAIL line counts as one failure.
run_suite() {
	local script=$1 out=$WORK/$1.out rc=0 p f t0=$SECONDS
	say "running $script"
	(cd "$HERE" && timeout -k 5 120 node "$script") 2>&1 | tee "$out" || rc=$?
	p=$(grep -c '^PASS ' "$out" || true)
	f=$(grep -c '^FAIL ' "$out" || true)
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		echo "FAIL $script: exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	say "$script: $p passed, $f failed ($((SECONDS - t0))s)"
}

run_suite apache.mjs
run_suite openid-client.mjs

if ((failed)); then
	print_logs
fi
echo "interop: $passed passed, $failed failed ($((SECONDS - started))s)"
((failed == 0))
