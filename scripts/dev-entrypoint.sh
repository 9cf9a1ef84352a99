#!/bin/sh
# Entry point of every cargo dev image (df.dev.Dockerfile). The repository is bind-mounted at /app
# and node_modules lives in a named volume, which Docker fills from the image once and then keeps:
# after package-lock.json changes, that volume would silently serve the old dependencies. So the
# lockfile's checksum is recorded at install time and compared here; on a mismatch the volume is
# reinstalled with `npm ci` before the service starts. Then the command runs as PID 1's child (init).
set -eu
cd /app

stamp=node_modules/.mupets-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "dev-entrypoint: package-lock.json differs from the one node_modules was installed from; running npm ci" >&2
  npm ci --ignore-scripts --no-audit --no-fund
  echo "$want" >"$stamp"
fi

exec "$@"
