#!/bin/sh
# Entry point of every cargo dev image (df.dev.Dockerfile). The repository is bind-mounted at /app
# and node_modules lives in a named volume, which Docker fills from the image once and then keeps:
# after package-lock.json changes, that volume would silently serve the old dependencies. So the
# lockfile's checksum is recorded at install time and compared here; on a mismatch the volume is
# reinstalled with `npm ci` before the service starts. Then the command runs as PID 1's child (init).
#
# The Node inspector is opt-in: MUPETS_INSPECT=<host>:<port> starts `node` with --inspect there.
# To attach from the host use 0.0.0.0:9229, which the dev compose file publishes on the host's
# 127.0.0.1 only; while it is on, every container of the project network can reach it too. Off by
# default: an inspector runs whatever code it is sent, and the admin and the log-collector hold the
# Docker socket, which is root on the host.
set -eu
cd "${MUPETS_APP_DIR:-/app}"

if [ -n "${MUPETS_INSPECT:-}" ]; then
  case $MUPETS_INSPECT in
    *[!0-9A-Za-z.:-]* | *[!0-9]) echo "dev-entrypoint: MUPETS_INSPECT must be <host>:<port> (for example 0.0.0.0:9229), got '$MUPETS_INSPECT'" >&2; exit 64 ;;
  esac
  if [ "${1:-}" = node ]; then
    shift
    set -- node "--inspect=$MUPETS_INSPECT" "$@"
  fi
fi

stamp=node_modules/.mupets-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "dev-entrypoint: package-lock.json differs from the one node_modules was installed from; running npm ci" >&2
  npm ci --ignore-scripts --no-audit --no-fund
  echo "$want" >"$stamp"
fi

exec "$@"
