#!/usr/bin/env bash
# smtp-test-server.sh starts a throw-away SMTP server for the integration
# test of internal/mail: Debian's exim4-daemon-light, run as its own
# instance (own configuration, spool, logs, certificate and mailbox in one
# directory) on loopback ports, never port 25, and without touching the
# system MTA's configuration.
#
#   bash scripts/smtp-test-server.sh [start]   install if needed, (re)start,
#                                              print the export lines
#   bash scripts/smtp-test-server.sh stop      stop the instance, remove its directory
#   bash scripts/smtp-test-server.sh env       print the export lines again
#
# Typical use:
#   eval "$(bash scripts/smtp-test-server.sh)"
#   go test ./internal/mail/ -run SMTP -count=1 -v
#   bash scripts/smtp-test-server.sh stop
#
# Only the export lines go to standard output; progress goes to standard
# error. The instance listens on 127.0.0.1 on three ports (the first free
# port at or above each base):
#   TNO_TEST_SMTP        submission with STARTTLS (base 2525): PLAIN and LOGIN
#                        offered after STARTTLS, recipients need AUTH
#   TNO_TEST_SMTP_TLS    implicit TLS (base 2465), same rules
#   TNO_TEST_SMTP_PLAIN  cleartext, no STARTTLS offered (base 2526): only
#                        LOGIN offered, recipients need AUTH
# Every accepted message is delivered to the maildir TNO_TEST_SMTP_MAILDIR
# (files readable by everyone). The certificate is signed by a CA made for
# the run (TNO_TEST_SMTP_CA) for the names 127.0.0.1, ::1 and localhost.
#
# Must run as root (exim keeps root privilege to bind and to read its own
# configuration given with -C). Environment:
#   TNO_SMTP_DIR   working directory (default /tmp/tno-smtp-test); removed by stop
set -euo pipefail

DIR=${TNO_SMTP_DIR:-/tmp/tno-smtp-test}
MARKER=.tno-smtp-test # only a directory holding this file is ever removed
EXIM=/usr/sbin/exim4
EXIM_USER=Debian-exim
HOST=127.0.0.1

log() { echo "smtp-test-server: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# port_in_use PORT: something accepts connections on HOST:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# free_port BASE [TAKEN...]: the first port at or above BASE that nothing
# listens on and that is not among TAKEN.
free_port() {
	local port=$1
	shift
	for _ in $(seq 1 100); do
		if ! port_in_use "$port" && [[ " $* " != *" $port "* ]]; then
			echo "$port"
			return
		fi
		port=$((port + 1))
	done
	die "no free port from $1"
}

# banner PORT: the first line the server sends on a cleartext port.
banner() {
	local line=""
	{
		exec 3<>"/dev/tcp/$HOST/$1" && read -r -t 3 line <&3 && printf 'QUIT\r\n' >&3
	} 2>/dev/null || true
	echo "${line%$'\r'}"
}

print_env() {
	[[ -f "$DIR/env" ]] || die "not running (no $DIR/env): run '$0 start'"
	cat "$DIR/env"
}

stop() {
	if [[ -f "$DIR/exim.pid" ]]; then
		local pid
		pid=$(cat "$DIR/exim.pid")
		if kill -0 "$pid" 2>/dev/null; then
			log "stopping exim (pid $pid)"
			kill "$pid"
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		fi
	fi
	if [[ -d "$DIR" ]]; then
		[[ -f "$DIR/$MARKER" ]] || die "$DIR exists but was not made by this script: not removing it"
		rm -rf "$DIR"
	fi
}

# install_exim installs exim4-daemon-light unless present. It refuses when
# the installation would remove packages (another MTA such as postfix), and
# stops the system daemon the package's postinst may have started on port 25
# when the package was not there before.
install_exim() {
	if [[ -x "$EXIM" ]]; then
		return
	fi
	log "installing exim4-daemon-light from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	local removed
	removed=$(apt-get install -s --no-install-recommends exim4-daemon-light | sed -n 's/^Remv \([^ ]*\).*/\1/p' | tr '\n' ' ')
	if [[ -n "$removed" ]]; then
		die "installing exim4-daemon-light would remove: $removed(another MTA?); not touching it"
	fi
	apt-get install -y --no-install-recommends exim4-daemon-light >&2
	# Debian's postinst starts the system MTA (loopback port 25) where
	# services may start; this test needs none of it. Stopped, not
	# disabled: it comes back at the next boot, as the package intends.
	if command -v invoke-rc.d >/dev/null; then
		invoke-rc.d exim4 stop >&2 2>&1 || true
	fi
}

start() {
	[[ $(id -u) == 0 ]] || die "must run as root"
	install_exim
	id "$EXIM_USER" >/dev/null 2>&1 || die "user $EXIM_USER missing: is exim4-base installed?"
	command -v openssl >/dev/null || {
		apt-get install -y --no-install-recommends openssl >&2
	}
	stop

	umask 022
	mkdir -p "$DIR"
	touch "$DIR/$MARKER"
	mkdir -p "$DIR/spool" "$DIR/log" "$DIR/maildir/new" "$DIR/maildir/cur" "$DIR/maildir/tmp"
	chown -R "$EXIM_USER:$EXIM_USER" "$DIR/spool" "$DIR/log" "$DIR/maildir"

	log "generating a CA and a server certificate"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=TNO test SMTP CA" \
		-keyout "$DIR/ca.key" -out "$DIR/ca.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		-keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
	printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
		"extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >"$DIR/server.ext"
	openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial \
		-days 2 -extfile "$DIR/server.ext" -out "$DIR/server.pem" 2>/dev/null
	chown "root:$EXIM_USER" "$DIR/server.key" "$DIR/server.pem"
	chmod 0640 "$DIR/server.key"
	rm -f "$DIR/ca.key" "$DIR/server.csr" "$DIR/server.ext" "$DIR/ca.srl"

	local user=tno-test password starttls_port tls_port plain_port
	# Hexadecimal: nothing to quote in exim's expansions.
	password=$(openssl rand -hex 16)
	starttls_port=$(free_port 2525)
	tls_port=$(free_port 2465 "$starttls_port")
	plain_port=$(free_port 2526 "$starttls_port" "$tls_port")

	cat >"$DIR/exim.conf" <<EOF
# Throw-away exim instance for TNO's internal/mail integration test,
# written by scripts/smtp-test-server.sh. Not a system MTA.
primary_hostname = tno-test-smtp.localhost
local_interfaces = <; $HOST
daemon_smtp_ports = $starttls_port : $tls_port : $plain_port
tls_on_connect_ports = $tls_port
exim_user = $EXIM_USER
exim_group = $EXIM_USER
spool_directory = $DIR/spool
log_file_path = $DIR/log/%slog
pid_file_path = $DIR/exim.pid
keep_environment =
host_lookup =
# The daemon re-executes itself with -C to deliver, which drops root
# privilege (spec, "-C"): deliver as the exim user.
deliver_drop_privilege = true
never_users =

tls_certificate = $DIR/server.pem
tls_privatekey = $DIR/server.key
tls_advertise_hosts = \${if eq{\$received_port}{$plain_port}{}{*}}

acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl

acl_check_rcpt:
  accept authenticated = *
  deny   message = authentication required

acl_check_data:
  accept

begin routers

everything:
  driver = accept
  transport = maildir

begin transports

maildir:
  driver = appendfile
  directory = $DIR/maildir
  maildir_format
  create_directory
  directory_mode = 0755
  mode = 0644
  user = $EXIM_USER
  group = $EXIM_USER
  envelope_to_add
  return_path_add

begin retry

*  *  F,1m,10s

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_advertise_condition = \${if eq{\$received_port}{$plain_port}{no}{yes}}
  server_prompts = :
  server_condition = \${if and{{eq{\$auth2}{$user}}{eq{\$auth3}{$password}}}}
  server_set_id = \$auth2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and{{eq{\$auth1}{$user}}{eq{\$auth2}{$password}}}}
  server_set_id = \$auth1
EOF
	chmod 0644 "$DIR/exim.conf"

	"$EXIM" -C "$DIR/exim.conf" -bV >/dev/null || die "exim rejects $DIR/exim.conf"
	log "starting exim on $HOST ports $starttls_port (STARTTLS), $tls_port (TLS), $plain_port (cleartext)"
	"$EXIM" -C "$DIR/exim.conf" -bd
	local ready=""
	for _ in $(seq 1 100); do
		if [[ $(banner "$starttls_port") == 220* && $(banner "$plain_port") == 220* ]] && port_in_use "$tls_port"; then
			ready=1
			break
		fi
		sleep 0.1
	done
	if [[ -z "$ready" ]]; then
		cat "$DIR"/log/*log >&2 2>/dev/null || true
		die "exim did not answer on $HOST:$starttls_port"
	fi

	cat >"$DIR/env" <<EOF
export TNO_TEST_SMTP=$HOST:$starttls_port
export TNO_TEST_SMTP_TLS=$HOST:$tls_port
export TNO_TEST_SMTP_PLAIN=$HOST:$plain_port
export TNO_TEST_SMTP_USER=$user
export TNO_TEST_SMTP_PASSWORD=$password
export TNO_TEST_SMTP_CA=$DIR/ca.pem
export TNO_TEST_SMTP_MAILDIR=$DIR/maildir
EOF
	log "ready; logs in $DIR/log"
	print_env
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
env) print_env ;;
*) die "usage: $0 [start|stop|env]" ;;
esac
