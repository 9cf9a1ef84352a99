#!/usr/bin/env bash
# The one test command, from a fresh clone: installs what is missing (system packages when run as
# root, npm dependencies), then lint, typecheck, format check, build, unit and integration tests. The
# integration tests start their own servers on free ports: redis-server, OrientDB and a single-node
# Kafka (Java; the OrientDB distribution and the Kafka jars are downloaded once from Maven Central into
# ~/.cache/mupets). Last, the Docker end-to-end check (scripts/e2e-docker.sh: both compose files on a
# real engine) when a Docker engine answers; otherwise it says that it skipped it, and why.
# MUPETS_E2E_DOCKER: auto (default), 1 (must run: fail when it cannot), 0 (skip).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# --- system packages -------------------------------------------------------------------------
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v curl >/dev/null || need+=(curl)
# docs/wire-format.md's Python example runs with Debian's python3 and its redis module (the doc test)
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || need+=(python3-redis)
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

# Node.js 22.22 or newer (the Kafka client's floor); the project targets Node 24 LTS, what its images
# run. An older machine node gets the official Node 24 build from the npm registry, cached outside the
# repository (scripts/fetch-node.sh), first on PATH for everything below.
node_ok() { node -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 22 || (a === 22 && b >= 22)' 2>/dev/null || echo false; }
if [ "$(node_ok)" != true ]; then
  command -v npm >/dev/null || {
    echo "Node.js 22.22 or newer is needed (found: none, and no npm to fetch it with)" >&2
    exit 1
  }
  say "node $(node --version 2>/dev/null || echo none) is too old: using the official Node 24 build"
  PATH="$(./scripts/fetch-node.sh):$PATH"
  export PATH
fi
say "toolchain"
echo "node $(node --version), npm $(npm --version)"

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

# --- Docker end-to-end -----------------------------------------------------------------------
say "docker end-to-end (scripts/e2e-docker.sh)"
e2e=${MUPETS_E2E_DOCKER:-auto}
docker_ready() { command -v docker >/dev/null && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }
# Where the machine cannot pull from Docker Hub (this project's CI), ../shared/tools sets up the
# engine and local stand-ins of the canonical images; scripts/docker-standins.sh uses them as root.
if [ "$e2e" != 0 ] && [ "$(id -u)" = 0 ] && [ -x "${MUPETS_SHARED_TOOLS:-$(dirname "$(pwd)")/shared/tools}/standin-images.sh" ]; then
  ./scripts/docker-standins.sh || status=1
fi
if [ "$e2e" = 0 ]; then
  echo "docker e2e: SKIPPED (MUPETS_E2E_DOCKER=0)"
elif docker_ready; then
  echo "docker engine $(docker version --format '{{.Server.Version}}'), $(docker compose version)"
  ./scripts/e2e-docker.sh || status=1
  # a service made by `npm run new:service`, in the dev stack and as a prod image
  ./scripts/e2e-new-service.sh || status=1
elif [ "$e2e" = 1 ]; then
  echo "docker e2e: FAILED to start: no Docker engine with 'docker compose' answers (MUPETS_E2E_DOCKER=1)" >&2
  status=1
else
  echo "docker e2e: SKIPPED: no Docker engine with 'docker compose' answers here."
  echo "            Install Docker, then run ./scripts/e2e-docker.sh (or this command again)."
fi
exit $status
