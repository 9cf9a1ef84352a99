#!/usr/bin/env bash
# End-to-end check of `npm run new:service` on a real Docker engine, non-interactive; exits non-zero on
# the first failure.
#
#   ./scripts/e2e-new-service.sh
#
# On a copy of the working tree (the repository itself is never edited): generates a service (HTTP +
# consumer), brings the dev stack up with it, posts to its API and finds, through the admin's API, its
# "service started" log line and both its request and its greeting event in the archive; edits its
# mounted source and sees the restarted code answer from the same container (no image rebuild); builds
# its prod image and reports its size over the node base. Removes its compose project and the images
# of the generated service when done (the stack's own dev images stay, as with e2e-docker.sh).
#
# Environment: E2E_GEN_PROJECT (mupetsgen), E2E_GEN_SERVICE (e2e-greeter), E2E_TIMEOUT seconds per
# wait (240), E2E_MAX_IMAGE_GROWTH_MB (60), MUPETS_NODE_VERSION (24).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

PROJECT=${E2E_GEN_PROJECT:-mupetsgen}
SERVICE=${E2E_GEN_SERVICE:-e2e-greeter}
TIMEOUT=${E2E_TIMEOUT:-240}
MAX_GROWTH_MB=${E2E_MAX_IMAGE_GROWTH_MB:-60}
NODE_VERSION=${MUPETS_NODE_VERSION:-24}
RUN=$(date +%s)-$$
ENV_PREFIX=$(tr 'a-z-' 'A-Z_' <<<"$SERVICE")
PROD_IMAGE="mupets-gen/$SERVICE:e2e-$RUN"

say() { printf '\n== %s\n' "$*"; }
info() { printf '   %s\n' "$*"; }
fail() {
  printf '\nFAIL: %s\n' "$*" >&2
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
figures=()
figure() {
  figures+=("$1: $2")
  info "$1: $2"
}
command -v curl >/dev/null || fail "curl is not installed"
command -v node >/dev/null || fail "node is not installed (the generator runs on the host)"
[ -d node_modules ] || fail "node_modules is missing: run npm ci first"
command -v docker >/dev/null || fail "docker is not installed"
docker compose version >/dev/null 2>&1 || fail "'docker compose' is not available"
docker info >/dev/null 2>&1 || fail "the Docker engine does not answer"

work=$(mktemp -d "${TMPDIR:-/tmp}/mupets-e2e-gen.XXXXXX")
dev() { docker compose -f "$work/repo/docker-compose.dev.yml" -p "$PROJECT" "$@"; }
started=0

cleanup() {
  local rc=$?
  set +e
  if [ $started = 1 ]; then dev down -v --remove-orphans >/dev/null 2>&1; fi
  docker image rm -f "$PROD_IMAGE" "$PROJECT-$SERVICE" >/dev/null 2>&1
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

project_resources() {
  docker ps -aq --filter "label=com.docker.compose.project=$1"
  docker volume ls -q --filter "label=com.docker.compose.project=$1"
  docker network ls -q --filter "label=com.docker.compose.project=$1"
}
[ -z "$(project_resources "$PROJECT")" ] ||
  fail "compose project '$PROJECT' already has containers, volumes or networks; remove it or set E2E_GEN_PROJECT"

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# wait_healthy COUNT: every container of the project healthy (all have healthchecks)
wait_healthy() {
  local want=$1 end=$(($(date +%s) + TIMEOUT)) ids states id st pending
  while :; do
    ids=$(dev ps -a -q)
    states=""
    pending=0
    for id in $ids; do
      st=$(docker inspect -f '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
      states="$states ${st#/}"
      case "$st" in
        *" healthy") ;;
        *" exited" | *" dead") fail "container ${st% *} is ${st##* }; logs: $(docker logs --tail 30 "$id" 2>&1)" ;;
        *) pending=1 ;;
      esac
    done
    if [ $pending = 0 ] && [ "$(echo "$ids" | wc -w)" -ge "$want" ]; then
      return 0
    fi
    [ "$(date +%s)" -lt $end ] || fail "not healthy within ${TIMEOUT}s:$states"
    sleep 0.5
  done
}

# --- HTTP: the admin's API (session cookie + CSRF token) and the service's own ---------------------
admin_url=""
csrf=""
status=""
body=""
# api METHOD URL [JSON_FILE] [AUTHORIZATION]: sets $status and $body; the cookie jar keeps the session
api() {
  local method=$1 url=$2 data=${3:-} auth=${4:-} args=()
  [ -z "$csrf" ] || args+=(-H "X-CSRF-Token: $csrf")
  [ -z "$auth" ] || args+=(-H "Authorization: $auth")
  [ -z "$data" ] || args+=(-H 'Content-Type: application/json' --data-binary "@$data")
  status=$(curl -sS -o "$work/api-body" -w '%{http_code}' -b "$work/cookies" -c "$work/cookies" \
    -X "$method" "${args[@]}" "$url") || status=000
  body=$(cat "$work/api-body" 2>/dev/null || true)
}
expect() {
  [ "$status" = "$1" ] || fail "$2: expected HTTP $1, got $status: ${body:0:500}"
}
json() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" <<<"$body" | head -n 1; }

admin_login() {
  rm -f "$work/cookies"
  csrf=""
  (
    umask 077
    printf '{"password":"%s"}' "$(tr -d '\n' <"$1")" >"$work/login.json"
  )
  api POST "$admin_url/api/login" "$work/login.json"
  rm -f "$work/login.json"
  expect 204 "POST /api/login"
  api GET "$admin_url/api/session"
  expect 200 "GET /api/session"
  csrf=$(json csrfToken)
  [ -n "$csrf" ] || fail "GET /api/session has no csrfToken: $body"
}

# wait_record CHANNEL ID: until the admin finds the archived record
wait_record() {
  local end=$(($(date +%s) + TIMEOUT))
  while :; do
    api GET "$admin_url/api/archive/records/$1/$2"
    if [ "$status" = 200 ]; then
      grep -q "$2" <<<"$body" || fail "the archived record of $2 does not name it: ${body:0:500}"
      return 0
    fi
    [ "$status" = 404 ] || expect 200 "GET /api/archive/records/$1/$2"
    [ "$(date +%s)" -lt $end ] || fail "the admin does not find $1/$2 in the archive after ${TIMEOUT}s"
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------------
say "generate $SERVICE in a copy of the working tree"
mkdir -p "$work/repo"
tar -C "$root" --exclude=./.git --exclude=node_modules --exclude=dist --exclude=./test-artifacts \
  --exclude=./deploy/secrets -cf - . | tar -C "$work/repo" -xf -
ln -s "$root/node_modules" "$work/repo/node_modules"
(cd "$work/repo" && npm run -s new:service -- "$SERVICE") >"$work/generate.log" 2>&1 || {
  cat "$work/generate.log" >&2
  fail "npm run new:service -- $SERVICE"
}
rm "$work/repo/node_modules"
[ -f "$work/repo/images/$SERVICE/src/main.ts" ] || fail "the generator wrote no images/$SERVICE/src/main.ts"
docker compose -f "$work/repo/docker-compose.dev.yml" config -q || fail "docker-compose.dev.yml does not parse after generation"
MUPETS_SECRETS_DIR="$work/secrets" docker compose -f "$work/repo/docker-compose.prod.yml" config -q ||
  fail "docker-compose.prod.yml does not parse after generation"
if docker stack config --help >/dev/null 2>&1; then
  # as docs/docker.md deploys it: deploy/stack-filter.awk drops what swarm rejects (pull_policy among it)
  awk -v broker=redis -f "$work/repo/deploy/stack-filter.awk" "$work/repo/docker-compose.prod.yml" |
    MUPETS_SECRETS_DIR="$work/secrets" docker stack config -c - -c "$work/repo/deploy/stack.yml" >/dev/null 2>"$work/stack.err" || {
    cat "$work/stack.err" >&2
    fail "the prod file with $SERVICE is not a valid stack"
  }
fi
info "generated; both compose files parse (and the prod file is a valid stack)"

say "dev: up with $SERVICE"
export MUPETS_REDIS_PORT MUPETS_ORIENTDB_PORT MUPETS_ORIENTDB_STUDIO_PORT MUPETS_ARCHIVER_HEALTH_PORT \
  MUPETS_ARCHIVER_INSPECT_PORT MUPETS_ADMIN_PORT MUPETS_ADMIN_INSPECT_PORT \
  "MUPETS_${ENV_PREFIX}_PORT" "MUPETS_${ENV_PREFIX}_INSPECT_PORT"
MUPETS_REDIS_PORT=$(free_port)
MUPETS_ORIENTDB_PORT=$(free_port)
MUPETS_ORIENTDB_STUDIO_PORT=$(free_port)
MUPETS_ARCHIVER_HEALTH_PORT=$(free_port)
MUPETS_ARCHIVER_INSPECT_PORT=$(free_port)
MUPETS_ADMIN_PORT=$(free_port)
MUPETS_ADMIN_INSPECT_PORT=$(free_port)
service_port=$(free_port)
printf -v "MUPETS_${ENV_PREFIX}_PORT" '%s' "$service_port"
printf -v "MUPETS_${ENV_PREFIX}_INSPECT_PORT" '%s' "$(free_port)"
started=1
t=$(now)
dev build >"$work/dev-build.log" 2>&1 || {
  tail -n 40 "$work/dev-build.log" >&2
  fail "docker compose build (dev)"
}
figure "dev build time (s)" "$(since "$t")"
t=$(now)
dev up -d >"$work/dev-up.log" 2>&1 || {
  cat "$work/dev-up.log" >&2
  fail "docker compose up (dev)"
}
wait_healthy 5
figure "dev cold up to healthy (s)" "$(since "$t")"

say "dev: $SERVICE's API, its log line and its events in the archive, through the admin"
admin_url="http://127.0.0.1:$MUPETS_ADMIN_PORT"
dev exec -T admin cat /data/initial-password >"$work/initial-password" || fail "docker compose exec admin cat /data/initial-password"
admin_login "$work/initial-password"
service_url="http://127.0.0.1:$service_port"
token="$SERVICE-dev-only-token"
printf '{"name":"e2e %s"}' "$RUN" >"$work/greeting.json"
api POST "$service_url/api/greetings" "$work/greeting.json" "Bearer wrong-token"
expect 401 "POST /api/greetings with a wrong token"
t=$(now)
api POST "$service_url/api/greetings" "$work/greeting.json" "Bearer $token"
expect 202 "POST $service_url/api/greetings"
request_id=$(json id)
[ -n "$request_id" ] || fail "POST /api/greetings answered no id: $body"
wait_record events "$request_id"
figure "dev request published by $SERVICE, archived, read back through the admin (s)" "$(since "$t")"
# the consumer's greeting: its id is derived from the request's (scripts/new-service/template/src/greeter.ts)
greeting_id=$(printf '%s' "$SERVICE.greeted:$request_id" | sha256sum | cut -c1-32)
wait_record events "$greeting_id"
grep -q "Hello, e2e $RUN!" <<<"$body" || fail "the archived greeting does not greet: ${body:0:500}"
info "request $request_id and its greeting $greeting_id archived"
end=$(($(date +%s) + TIMEOUT))
until api GET "$admin_url/api/archive/search?channel=logs&service=$SERVICE&text=started&limit=10" &&
  [ "$status" = 200 ] && grep -q '"service started"' <<<"$body"; do
  [ "$(date +%s)" -lt $end ] || fail "the admin's archive search finds no 'service started' line of $SERVICE: HTTP $status ${body:0:300}"
  sleep 0.5
done
info "its 'service started' log line is in the archive"

say "dev: edit $SERVICE's mounted source; the restarted code answers, same container, same image"
service_id=$(dev ps -q "$SERVICE")
before=$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$service_id")
marker="e2e-new-service edit $RUN"
app="$work/repo/images/$SERVICE/src/app.ts"
grep -q "response.status(202).json({ id, brokerId, channel: options.channel });" "$app" ||
  fail "app.ts no longer answers 202 { id, brokerId, channel }; adapt this script"
sed -i "s/response.status(202).json({ id, brokerId, channel: options.channel });/response.status(202).json({ id, brokerId, channel: options.channel, edited: '$marker' });/" "$app"
t=$(now)
end=$(($(date +%s) + TIMEOUT))
until api POST "$service_url/api/greetings" "$work/greeting.json" "Bearer $token" && [[ "$body" == *"$marker"* ]]; do
  [ "$(date +%s)" -lt $end ] || fail "$SERVICE does not answer with the edited code within ${TIMEOUT}s: $(docker logs --tail 20 "$service_id" 2>&1)"
  sleep 0.3
done
figure "dev edit to edited code answering (s)" "$(since "$t")"
[ "$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$service_id")" = "$before" ] ||
  fail "the container was restarted or recreated; expected node --watch to restart the process inside it"
info "same container, same image: no rebuild"

say "dev: down -v"
dev down -v --remove-orphans >/dev/null 2>&1 || fail "docker compose down -v (dev)"
[ -z "$(project_resources "$PROJECT")" ] || fail "left behind by down -v: $(project_resources "$PROJECT")"
started=0

say "prod: build $SERVICE's image"
t=$(now)
docker build -f "$work/repo/images/$SERVICE/df.prod.Dockerfile" --build-arg "NODE_VERSION=$NODE_VERSION" \
  --build-arg "REVISION=e2e-$RUN" -t "$PROD_IMAGE" "$work/repo" >"$work/prod-build.log" 2>&1 || {
  tail -n 40 "$work/prod-build.log" >&2
  fail "docker build $SERVICE (prod)"
}
figure "prod build time (s)" "$(since "$t")"
base=$(docker image inspect -f '{{.Size}}' "node:$NODE_VERSION-bookworm-slim")
size=$(docker image inspect -f '{{.Size}}' "$PROD_IMAGE")
growth=$(((size - base) / 1000000))
figure "prod image $SERVICE (MB)" "$((size / 1000000))"
figure "prod image $SERVICE over node:$NODE_VERSION-bookworm-slim (MB)" "$growth"
[ "$growth" -le "$MAX_GROWTH_MB" ] || fail "the $SERVICE prod image is $growth MB over its base (limit $MAX_GROWTH_MB MB)"
[ "$(docker image inspect -f '{{.Config.User}}' "$PROD_IMAGE")" = node ] || fail "the $SERVICE prod image does not run as user node"
[ -n "$(docker image inspect -f '{{.Config.Healthcheck}}' "$PROD_IMAGE" | grep healthcheck.js)" ] ||
  fail "the $SERVICE prod image has no HEALTHCHECK"

say "figures"
printf '   %s\n' "${figures[@]}"
say "e2e-new-service: passed"
