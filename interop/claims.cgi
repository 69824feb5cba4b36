#!/bin/sh
# The protected page of the interop test: prints what mod_auth_openidc
# passes to the application (REMOTE_USER and the OIDC_CLAIM_* environment
# variables), one KEY=value per line.
printf 'Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n\r\n'
printf 'PAGE=protected\n'
printf 'SERVER_PORT=%s\n' "$SERVER_PORT"
printf 'REMOTE_USER=%s\n' "$REMOTE_USER"
printf 'AUTH_TYPE=%s\n' "$AUTH_TYPE"
env | grep '^OIDC_CLAIM_' | LC_ALL=C sort
