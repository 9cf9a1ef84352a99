#!/usr/bin/env bash
# The one test command, from a fresh clone: installs what is missing (system packages when run as
# root, npm dependencies), then lint, typecheck, format check, build, unit and integration tests. The
# integration tests start their own servers on free ports: redis-server, OrientDB and a single-node
# Kafka (Java; the OrientDB distribution and the Kafka jars are downloaded once from Maven Central into
# ~/.cache/mupets).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# --- system packages -------------------------------------------------------------------------
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v curl >/dev/null || need+=(curl)
# the admin's containers tests run a private dockerd (as root: own socket and data root, never the
# host's daemon) and a FROM-scratch image of Debian's static busybox
command -v dockerd >/dev/null || need+=(docker.io)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need+=(busybox-static); fi
# the admin UI's browser tests drive Debian's chromium through playwright-core
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing system packages: ${need[*]} -- install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

# 20.19: the first Node 20 that require()s an ES module (the Kafka client ships only as one)
node_ok=$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 20 || (a === 20 && b >= 19)' 2>/dev/null || echo false)
if [ "$node_ok" != true ]; then
  echo "Node.js 20.19 or newer is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# --- npm dependencies (again only when the lockfile changed) ---------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi

# --- servers the tests run, cached outside the repo ------------------------------------------
./scripts/fetch-orientdb.sh >/dev/null
./scripts/fetch-kafka.sh

say "lint";        npx eslint --max-warnings 0 .
say "typecheck";   npx tsc -p tsconfig.json
say "typecheck web"; npx tsc -p images/admin/web
say "format";      npx prettier --check . >/dev/null && echo "prettier: clean"
say "build";       npm run -s build && echo "tsc: every package compiles to dist/"

say "tests (unit + integration)"
mkdir -p test-artifacts
status=0
npx jest --json --outputFile=test-artifacts/jest-results.json || status=$?
# one plain closing line, whatever the runner's own summary looks like
node -e '
  const r = require("./test-artifacts/jest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' || true
exit $status
