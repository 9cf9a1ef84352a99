#!/usr/bin/env bash
# End-to-end check of the Docker setup, non-interactive; exits non-zero on the first failure.
#
#   ./scripts/e2e-docker.sh
#
# prod: builds the images of docker-compose.prod.yml, starts the stack with generated secrets, waits
#       until every service is healthy; logs in to the admin over HTTP (cookie + CSRF token), submits
#       an event through its API and reads it back from the archive through the same API, and lists
#       the project's containers through it (Docker socket); publishes envelopes into the Redis stream
#       and waits until OrientDB holds each exactly once; then publishes again while the log-archiver
#       is restarted (SIGTERM) and killed (SIGKILL), and checks that none is lost; `down -v` must
#       leave nothing.
# dev:  starts docker-compose.dev.yml on a copy of the working tree (the repository itself is never
#       edited) with 127.0.0.1:6379 taken by another server (as on many developer machines) and no
#       port settings but the admin's (no Node inspector answers: MUPETS_INSPECT is unset), logs in to
#       the admin with its first-run password, changes
#       mounted source files of the log-archiver and of the admin and checks that each service restarts
#       and runs (serves) the change inside the same container, from the same image.
# kafka: the dev stack again with `--profile kafka`, MUPETS_BROKER=kafka and the Node inspectors on
#       (MUPETS_INSPECT, answering on 127.0.0.1): an event submitted through
#       the admin is read back from the archive; envelopes sent with Kafka's own console producer are
#       archived exactly once while the log-archiver is killed (SIGKILL) and restarted.
# Prints its measurements (build time, image size over the node base, start-up times) at the end.
#
# Needs Docker Engine with Compose v2 (2.20 or newer) and the canonical images (pullable, or local
# stand-ins). Uses its own compose projects and free 127.0.0.1
# ports, refuses to touch a project that already exists, and removes both when done (images stay).
#
# Environment: E2E_PROD_PROJECT (mupetsprod), E2E_DEV_PROJECT (mupetsdev), E2E_KAFKA_PROJECT
# (mupetskafka), E2E_MESSAGES (200),
# E2E_TIMEOUT seconds per wait (240), E2E_MAX_IMAGE_GROWTH_MB (60), E2E_PARTS (which parts run:
# "prod dev kafka", the default, or any of them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

PROD=${E2E_PROD_PROJECT:-mupetsprod}
DEV=${E2E_DEV_PROJECT:-mupetsdev}
KAFKA=${E2E_KAFKA_PROJECT:-mupetskafka}
MESSAGES=${E2E_MESSAGES:-200}
TIMEOUT=${E2E_TIMEOUT:-240}
MAX_GROWTH_MB=${E2E_MAX_IMAGE_GROWTH_MB:-60}
NODE_VERSION=${MUPETS_NODE_VERSION:-24}
RUN=$(date +%s)-$$
PARTS=" ${E2E_PARTS:-prod dev kafka} "
want() { [[ "$PARTS" == *" $1 "* ]]; }

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

command -v docker >/dev/null || fail "docker is not installed"
docker compose version >/dev/null 2>&1 || fail "'docker compose' (Compose v2) is not available"
docker info >/dev/null 2>&1 || fail "the Docker engine does not answer"
# a local engine whose default bridge interface is gone cannot run a build step (RUN): say why up front
if [ -z "${DOCKER_HOST:-}" ] && command -v ip >/dev/null; then
  bridge=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)
  if [ -n "$bridge" ] && ! ip link show "$bridge" >/dev/null 2>&1; then
    fail "the engine's default bridge interface $bridge is missing (a dockerd started with --bridge=none on this host deletes it): restart dockerd"
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mupets-e2e.XXXXXX")
prod() { docker compose -f "$root/docker-compose.prod.yml" -p "$PROD" "$@"; }
dev() { docker compose -f "$work/repo/docker-compose.dev.yml" -p "$DEV" "$@"; }
kdev() { MUPETS_BROKER=kafka docker compose -f "$work/repo/docker-compose.dev.yml" -p "$KAFKA" --profile kafka "$@"; }
started=()

cleanup() {
  local rc=$?
  set +e
  # on a failure, what our services said last: the only trace of a failed CI run
  if [ "$rc" != 0 ]; then
    for p in "${started[@]}"; do
      for service in log-collector log-archiver admin ingest; do
        printf '\n-- %s %s, last lines:\n' "$p" "$service" >&2
        case $p in
          prod) prod logs --no-color --tail 25 "$service" >&2 ;;
          dev) dev logs --no-color --tail 25 "$service" >&2 ;;
          kafka) kdev logs --no-color --tail 25 "$service" >&2 ;;
        esac
      done
    done
  fi
  for p in "${started[@]}"; do
    if [ "$p" = prod ]; then prod down -v --remove-orphans >/dev/null 2>&1; fi
    if [ "$p" = dev ]; then dev down -v --remove-orphans >/dev/null 2>&1; fi
    if [ "$p" = kafka ]; then kdev down -v --remove-orphans >/dev/null 2>&1; fi
  done
  [ -z "${port_holder:-}" ] || kill "$port_holder" 2>/dev/null
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A project of these names may be someone's stack: never take it over (or remove it at the end).
project_resources() {
  docker ps -aq --filter "label=com.docker.compose.project=$1"
  docker volume ls -q --filter "label=com.docker.compose.project=$1"
  docker network ls -q --filter "label=com.docker.compose.project=$1"
}
for p in "$PROD" "$DEV" "$KAFKA"; do
  [ -z "$(project_resources "$p")" ] ||
    fail "compose project '$p' already has containers, volumes or networks; remove it or set E2E_PROD_PROJECT / E2E_DEV_PROJECT / E2E_KAFKA_PROJECT"
done

free_port() {
  if command -v node >/dev/null; then
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
  else
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  fi
}

# wait_healthy COMPOSE_FN SERVICE_COUNT: every container of the project healthy (all have healthchecks)
wait_healthy() {
  local fn=$1 want=$2 end=$(($(date +%s) + TIMEOUT)) ids states id st pending
  while :; do
    ids=$("$fn" ps -a -q)
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

container() { prod ps -q "$1" | head -n 1; }

# rcli USER ARGS...: redis-cli in the prod redis container, logged in as one of its ACL users (the
# password from the secret file, in the container's environment only: REDISCLI_AUTH)
rcli() {
  local user=$1
  shift
  # shellcheck disable=SC2016 # expanded by the container's shell
  docker exec -i "$redis_id" sh -c 'REDISCLI_AUTH="$(cat "/run/secrets/broker_$0_password")" exec redis-cli --user "$0" "$@"' "$user" "$@"
}

# publish SERVICE_TAG FROM TO: envelopes FROM..TO into the logs stream, with redis-cli as a cargo
# service's Redis user (`service`) in the redis container
publish() {
  local tag=$1 from=$2 to=$3 i out n
  out=$(
    for ((i = from; i <= to; i++)); do
      printf "XADD mupets:logs * e '{\"id\":\"%s\",\"channel\":\"logs\",\"type\":\"log\",\"ts\":\"%s\",\"source\":{\"service\":\"%s\"},\"level\":\"info\",\"message\":\"e2e message %d\",\"v\":1}'\n" \
        "$(cat /proc/sys/kernel/random/uuid)" "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$tag" "$i"
    done | rcli service
  )
  n=$(grep -cE '^[0-9]+-[0-9]+$' <<<"$out" || true)
  [ "$n" -eq $((to - from + 1)) ] || fail "XADD stored $n of $((to - from + 1)): $(grep -v -E '^[0-9]+-[0-9]+$' <<<"$out" | head -3)"
}

# the compose function (prod, dev, kdev) whose stack archived and wait_archived look at
stack=prod
# orient_n SQL: the `n` of a `select ... as n` query (URL-encoded) on the archive (HTTP API, inside the
# orientdb container; the password is the prod secret file, or the dev container's environment)
orient_n() {
  local out
  # shellcheck disable=SC2016 # expanded by the container's shell: the password never leaves it
  out=$("$stack" exec -T orientdb sh -c 'curl -fsS -u "root:$(cat /run/secrets/orientdb_root_password 2>/dev/null || printf %s "$ORIENTDB_ROOT_PASSWORD")" "$0"' \
    "http://127.0.0.1:2480/query/mupets/sql/$1") ||
    return 1
  sed -n 's/.*"n": *\([0-9]*\).*/\1/p' <<<"$out" | head -n 1
}

# archived SERVICE_TAG: how many records OrientDB holds for it
archived() {
  orient_n "select%20count(*)%20as%20n%20from%20Message%20where%20service%20%3D%20%27$1%27"
}

# wait_archived SERVICE_TAG COUNT
wait_archived() {
  local end=$(($(date +%s) + TIMEOUT)) n=""
  while :; do
    n=$(archived "$1" || true)
    [ "$n" = "$2" ] && return 0
    if [ -n "$n" ] && [ "$n" -gt "$2" ]; then fail "OrientDB holds $n records of $1, more than the $2 published"; fi
    if [ "$(date +%s)" -ge $end ]; then
      [ "$stack" != prod ] || rcli admin XINFO GROUPS mupets:logs >&2 || true
      "$stack" logs --no-color --tail 40 log-archiver >&2 || true
      fail "OrientDB holds ${n:-?} of the $2 messages of $1 after ${TIMEOUT}s"
    fi
    sleep 0.5
  done
}

# --- the admin's HTTP API, as a browser uses it: a session cookie, and the CSRF token on every change ---
admin_url=""
csrf=""
status=""
body=""
# api METHOD PATH [JSON_FILE]: sets $status (HTTP status) and $body; the cookie jar keeps the session
api() {
  local method=$1 path=$2 data=${3:-} args=()
  [ -z "$csrf" ] || args+=(-H "X-CSRF-Token: $csrf")
  [ -z "$data" ] || args+=(-H 'Content-Type: application/json' --data-binary "@$data")
  status=$(curl -sS -o "$work/api-body" -w '%{http_code}' -b "$work/cookies" -c "$work/cookies" \
    -X "$method" "${args[@]}" "$admin_url$path") || status=000
  body=$(cat "$work/api-body" 2>/dev/null || true)
}
# expect STATUS WHAT: the last api call answered STATUS
expect() {
  [ "$status" = "$1" ] || fail "$2: expected HTTP $1, got $status: ${body:0:500}"
}
# json FIELD: a string field of $body (flat enough for sed: ids, tokens)
json() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" <<<"$body" | head -n 1; }

# admin_login PASSWORD_FILE: a new session, and its CSRF token in $csrf
admin_login() {
  rm -f "$work/cookies"
  csrf=""
  (
    umask 077
    printf '{"password":"%s"}' "$(tr -d '\n' <"$1")" >"$work/login.json"
  )
  api POST /api/login "$work/login.json"
  rm -f "$work/login.json"
  expect 204 "POST /api/login"
  grep -q mupets_admin "$work/cookies" || fail "the login set no mupets_admin cookie"
  api GET /api/session
  expect 200 "GET /api/session"
  csrf=$(json csrfToken)
  [ -n "$csrf" ] || fail "GET /api/session has no csrfToken: $body"
}

# event_json TYPE: the body of a submitted event, in $work/event.json
event_json() {
  printf '{"channel":"events","type":"%s","level":"info","message":"e2e event","data":{"run":"%s"}}' "$1" "$RUN" \
    >"$work/event.json"
}

# submit_event TYPE: POST /api/events on the events channel; sets $event_id
submit_event() {
  event_json "$1"
  api POST /api/events "$work/event.json"
  expect 202 "POST /api/events"
  event_id=$(json id)
  [ -n "$event_id" ] || fail "POST /api/events answered no id: $body"
}

# wait_record CHANNEL ID: until GET /api/archive/records/CHANNEL/ID finds the archived record
wait_record() {
  local end=$(($(date +%s) + TIMEOUT))
  while :; do
    api GET "/api/archive/records/$1/$2"
    if [ "$status" = 200 ]; then
      grep -q "$2" <<<"$body" || fail "the archived record of $2 does not name it: ${body:0:500}"
      return 0
    fi
    [ "$status" = 404 ] || expect 200 "GET /api/archive/records/$1/$2"
    [ "$(date +%s)" -lt $end ] || fail "the admin does not find $1/$2 in the archive after ${TIMEOUT}s"
    sleep 0.5
  done
}

# wait_container_line SERVICE TEXT: until the archive, searched through the admin, holds a record of
# SERVICE (a container the log-collector follows) whose message contains TEXT
wait_container_line() {
  local end=$(($(date +%s) + TIMEOUT))
  until api GET "/api/archive/search?service=$1&text=$(printf %s "$2" | sed 's/ /%20/g')" && [ "$status" = 200 ] &&
    [[ "$body" == *"$2"* ]]; do
    [ "$(date +%s)" -lt $end ] || fail "no archived line of $1 containing '$2' after ${TIMEOUT}s (log-collector): HTTP $status ${body:0:300}"
    sleep 0.5
  done
  [[ "$body" == *'"type": *"container.log"'* || "$body" == *'"type":"container.log"'* ]] ||
    fail "the archived line of $1 is not a container.log record: ${body:0:500}"
}

# ui_fetch: the login page, then the script it loads; true when both answered 200, with the script's
# path in $ui_script and its text in $body
ui_fetch() {
  ui_script=""
  api GET /login
  [ "$status" = 200 ] || return 1
  ui_script=$(sed -n 's/.*src="\(\/assets\/[^"]*\.js\)".*/\1/p' <<<"$body" | head -n 1)
  [ -n "$ui_script" ] || return 1
  api GET "$ui_script"
  [ "$status" = 200 ]
}

# wait_ui [TEXT]: until the UI is served, and its script contains TEXT. In dev, a rebuild replaces the
# hashed script, so an index.html read just before it may name a script already gone: retried.
wait_ui() {
  local end=$(($(date +%s) + TIMEOUT))
  until ui_fetch && [[ "$body" == *"${1:-}"* ]]; do
    [ "$(date +%s)" -lt $end ] || fail "the web UI is not served${1:+ with '$1'} after ${TIMEOUT}s: HTTP $status ${ui_script:-/login}: ${body:0:300}"
    sleep 0.3
  done
}

# ---------------------------------------------------------------------------------------------------
say "static: both compose files parse; the prod file is a valid swarm stack"
mkdir -p "$work/secrets"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/orientdb_root_password"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/orientdb_reader_password"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/admin_password"
for user in archiver admin ingest collector service; do
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/broker_${user}_password"
done
# the services read them as uid 1000
chmod 0644 "$work/secrets"/*
export MUPETS_SECRETS_DIR="$work/secrets"
docker compose -f "$root/docker-compose.dev.yml" config -q || fail "docker-compose.dev.yml does not parse"
docker compose -f "$root/docker-compose.prod.yml" config -q || fail "docker-compose.prod.yml does not parse"
if docker stack config --help >/dev/null 2>&1; then
  # as docs/docker.md deploys it (deploy/stack-filter.awk), with and without the kafka service
  for broker in redis kafka; do
    # (its one warning, that swarm publishes the admin's port on every interface, is documented)
    awk -v broker="$broker" -f "$root/deploy/stack-filter.awk" "$root/docker-compose.prod.yml" |
      docker stack config -c - -c "$root/deploy/stack.yml" >/dev/null 2>"$work/stack.err" || {
      cat "$work/stack.err" >&2
      fail "the prod file is not a valid stack ($broker)"
    }
  done
  info "docker stack config: valid"
else
  info "docker stack config: not available in this docker CLI, skipped"
fi

# ---------------------------------------------------------------------------------------------------
if want prod; then
say "prod: build"
export MUPETS_TAG=e2e MUPETS_REVISION=e2e-$RUN
export MUPETS_ORIENTDB_MEMORY="-Xms256m -Xmx1g" ARCHIVER_MIN_IDLE_MS=5000 # reclaim a killed consumer's entries soon
t=$(now)
prod build >"$work/build.log" 2>&1 || {
  tail -n 40 "$work/build.log" >&2
  fail "docker compose build (prod)"
}
figure "prod build time (s)" "$(since "$t")"
base=$(docker image inspect -f '{{.Size}}' "node:$NODE_VERSION-bookworm-slim")
figure "node:$NODE_VERSION-bookworm-slim base (MB)" "$((base / 1000000))"
for service in log-archiver log-collector admin ingest; do
  image="${MUPETS_REGISTRY:-localhost/mupets}/$service:e2e"
  size=$(docker image inspect -f '{{.Size}}' "$image")
  growth=$(((size - base) / 1000000))
  figure "prod image $image (MB)" "$((size / 1000000))"
  figure "prod image $service over its base (MB)" "$growth"
  [ "$growth" -le "$MAX_GROWTH_MB" ] || fail "the $service prod image is $growth MB over its base (limit $MAX_GROWTH_MB MB)"
  [ "$(docker image inspect -f '{{.Config.User}}' "$image")" = node ] || fail "the $service prod image does not run as user node"
  [ "$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$image")" = "e2e-$RUN" ] ||
    fail "the $service prod image lacks its org.opencontainers.image.revision label"
done

say "prod: up (cold: new volumes)"
export MUPETS_ADMIN_PORT MUPETS_INGEST_PORT MUPETS_INGEST_ADDRESS=127.0.0.1
MUPETS_ADMIN_PORT=$(free_port)
MUPETS_INGEST_PORT=$(free_port)
started+=(prod)
t=$(now)
prod up -d --wait --wait-timeout "$TIMEOUT" >"$work/up.log" 2>&1 || {
  cat "$work/up.log" >&2
  prod ps -a >&2 || true
  prod logs --no-color --tail 30 log-archiver admin >&2 || true
  fail "docker compose up --wait (prod)"
}
figure "prod cold up to healthy (s)" "$(since "$t")"
redis_id=$(container redis)
admin_id=$(container admin)
[ -z "$(docker port "$(container log-archiver)")$(docker port "$(container orientdb)")$(docker port "$redis_id")" ] ||
  fail "the prod stack publishes a port besides the admin's"
[ "$(docker port "$admin_id")" = "8080/tcp -> 127.0.0.1:$MUPETS_ADMIN_PORT" ] ||
  fail "the admin publishes $(docker port "$admin_id"), expected 8080/tcp on 127.0.0.1:$MUPETS_ADMIN_PORT only"
if docker inspect -f '{{json .Config.Env}}' "$(container orientdb)" | grep -q ORIENTDB_ROOT_PASSWORD; then
  fail "the OrientDB password is visible in the container's configuration"
fi
# started as root only to join the socket's group: the admin process itself must run as node
admin_uids=$(docker top "$admin_id" -eo pid,uid,args | awk '$3 == "node" { print $2 }' | sort -u)
[ "$admin_uids" = 1000 ] || fail "the admin's node process runs as uid '${admin_uids:-none}', expected 1000 (node)"
info "only the admin publishes a port (127.0.0.1); its process runs as uid 1000"
# the admin reads the archive as the reader the log-archiver keeps: OrientDB's root password is not
# in its container (the archive checks below read through it)
docker exec "$admin_id" test ! -e /run/secrets/orientdb_root_password ||
  fail "the admin container holds OrientDB's root password"
docker exec "$admin_id" test -e /run/secrets/orientdb_reader_password ||
  fail "the admin container has no reader password"
info "the admin holds the OrientDB reader's password, not root's"
# Redis's ACL users (deploy/redis/users.acl): no one gets in without a password, and a cargo service's
# user cannot move the archiver's group (everything unread would never be archived) nor read a stream
out=$(docker exec "$redis_id" redis-cli XLEN mupets:logs 2>&1 || true)
grep -q NOPERM <<<"$out" || fail "Redis answers an unauthenticated XLEN: $out"
out=$(rcli service XGROUP SETID mupets:logs log-archiver '$' 2>&1 || true)
grep -q NOPERM <<<"$out" || fail "the service user may XGROUP SETID the archiver's group: $out"
out=$(rcli service XRANGE mupets:logs - + COUNT 1 2>&1 || true)
grep -q NOPERM <<<"$out" || fail "the service user may read the logs stream: $out"
if docker inspect -f '{{json .Config.Env}} {{json .Config.Cmd}}' "$redis_id" "$(container log-archiver)" "$admin_id" |
  grep -qF "$(cat "$work/secrets/broker_archiver_password")"; then
  fail "a Redis password is visible in a container's configuration"
fi
info "Redis: unauthenticated clients and the service user are refused what is not theirs"

say "prod: the admin over HTTP: login, submit an event, read it back from the archive, list containers"
admin_url="http://127.0.0.1:$MUPETS_ADMIN_PORT"
api GET /healthz
expect 200 "GET /healthz"
ui_fetch || fail "the prod image does not serve the web UI: HTTP $status ${ui_script:-/login}: ${body:0:300}"
info "the web UI is served from the image ($ui_script)"
api GET /api/status
expect 401 "GET /api/status without a session"
printf '{"password":"not-the-password"}' >"$work/wrong-login.json"
api POST /api/login "$work/wrong-login.json"
expect 401 "POST /api/login with a wrong password"
admin_login "$work/secrets/admin_password"
token=$csrf
csrf=""
event_json e2e.no-csrf
api POST /api/events "$work/event.json"
expect 403 "POST /api/events without the CSRF token"
csrf=$token
t=$(now)
submit_event e2e.check
wait_record events "$event_id"
figure "prod event submitted through the admin, archived, read back through the admin (s)" "$(since "$t")"
api GET /api/containers
expect 200 "GET /api/containers"
for service in redis orientdb log-archiver log-collector admin ingest; do
  grep -q "\"service\": *\"$service\"" <<<"$body" || fail "GET /api/containers does not list $service: ${body:0:800}"
done
[ "$(json project)" = "$PROD" ] || fail "the admin's compose project is '$(json project)', expected $PROD"
info "logged in, CSRF enforced, event $event_id archived, containers of project $PROD listed"

say "prod: Redis's own startup line, collected from its container, read back through the admin"
t=$(now)
wait_container_line redis "Ready to accept connections"
figure "prod Redis startup line in the archive, found through the admin (s)" "$(since "$t")"

say "prod: an OTLP/HTTP log record from the host, through the ingest, read back through the admin"
otel_service="e2e-otel-${RUN//[^a-z0-9-]/-}"
printf '{"name":"e2e","channels":["logs"],"services":["%s"]}' "$otel_service" >"$work/token.json"
api POST /api/tokens "$work/token.json"
expect 201 "POST /api/tokens"
ingest_token=$(json token)
[ -n "$ingest_token" ] || fail "POST /api/tokens answered no token"
printf '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"%s"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"%s000000000","severityNumber":13,"severityText":"WARN","body":{"stringValue":"e2e otlp record"},"attributes":[{"key":"order","value":{"intValue":"42"}}]}]}]}]}' \
  "$otel_service" "$(date +%s)" >"$work/otlp.json"
t=$(now)
otlp_status=$(curl -sS -o "$work/otlp-reply" -w '%{http_code}' -H "Authorization: Bearer $ingest_token" \
  -H 'Content-Type: application/json' --data-binary "@$work/otlp.json" "http://127.0.0.1:$MUPETS_INGEST_PORT/v1/logs") || otlp_status=000
[ "$otlp_status" = 200 ] || fail "POST /v1/logs to the ingest: HTTP $otlp_status $(cat "$work/otlp-reply" 2>/dev/null)"
end=$(($(date +%s) + TIMEOUT))
until api GET "/api/archive/search?service=$otel_service" && [ "$status" = 200 ] && [[ "$body" == *"e2e otlp record"* ]]; do
  [ "$(date +%s)" -lt $end ] || fail "the OTLP record of $otel_service is not in the archive after ${TIMEOUT}s: HTTP $status ${body:0:300}"
  sleep 0.5
done
[[ "$body" == *'"level": *"warn"'* || "$body" == *'"level":"warn"'* ]] || fail "the archived OTLP record lost its level: ${body:0:500}"
figure "prod OTLP record sent to the ingest, archived, read back through the admin (s)" "$(since "$t")"
printf '{"name":"e2e","channels":["logs"],"services":["admin"]}' >"$work/token.json"
api POST /api/tokens "$work/token.json"
expect 400 "POST /api/tokens for the reserved service admin"

say "prod: $MESSAGES messages, Redis -> log-archiver -> OrientDB"
tag1="e2e-$RUN-a"
t=$(now)
publish "$tag1" 1 "$MESSAGES"
wait_archived "$tag1" "$MESSAGES"
figure "prod $MESSAGES messages archived (s)" "$(since "$t")"

say "prod: publishing while the log-archiver is restarted (SIGTERM), then killed (SIGKILL)"
tag2="e2e-$RUN-b"
batches=20
(
  for ((b = 0; b < batches; b++)); do
    publish "$tag2" $((b * MESSAGES / 10 + 1)) $(((b + 1) * MESSAGES / 10))
    sleep 0.3
  done
) &
publisher=$!
sleep 1
prod restart log-archiver >/dev/null 2>&1 || fail "docker compose restart log-archiver"
info "restarted (graceful)"
sleep 1
archiver_id=$(container log-archiver)
docker kill -s KILL "$archiver_id" >/dev/null
info "killed"
sleep 1
docker start "$archiver_id" >/dev/null
wait "$publisher" || fail "publishing during the restarts failed"
t=$(now)
wait_healthy prod 4
wait_archived "$tag2" $((batches * MESSAGES / 10))
figure "prod $((batches * MESSAGES / 10)) messages across restart + kill, all archived; last wait (s)" "$(since "$t")"
if [ "$(archived "$tag1")" != "$MESSAGES" ]; then fail "the first messages changed after the restarts"; fi
# the per-minute count rows are kept per writer: a restarted archiver must write as the same writers
# (one per consumer, ARCHIVER_CONCURRENCY=2), not add new ones at every start
# (images/log-archiver/test/writer-ids.test.ts runs the same query)
writers=$(orient_n "select%20count(*)%20as%20n%20from%20(select%20distinct(writer)%20from%20MessageCount%20where%20writer%20not%20in%20%5B%27replay%27%2C%20%27retention%27%5D)")
[ -n "$writers" ] && [ "$writers" -le 2 ] ||
  fail "the archive's count rows have ${writers:-no} writer ids after a restart and a kill, expected at most 2"
info "count rows written by $writers writer ids across a restart and a kill"
submit_event e2e.after-restarts
wait_record events "$event_id"
info "the admin's session and API work on across the archiver's restarts"

say "prod: down -v"
mounts=$(for id in $(prod ps -a -q); do docker inspect -f '{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}' "$id"; done)
prod down -v --remove-orphans >/dev/null 2>&1 || fail "docker compose down -v (prod)"
left="$(project_resources "$PROD")"
for v in $mounts; do
  if docker volume inspect "$v" >/dev/null 2>&1; then left="$left $v"; fi
done
[ -z "${left// /}" ] || fail "left behind by down -v: $left"
info "no container, volume (named or anonymous) or network of $PROD left"
fi

# ---------------------------------------------------------------------------------------------------
# The dev file runs on a copy of the working tree (the dev part edits its sources). Nothing but the
# admin's and Studio's ports is set (both to free ports here, as the machine may run anything): every
# other published port is left to Docker.
mkdir -p "$work/repo"
tar -C "$root" --exclude=./.git --exclude=node_modules --exclude=dist --exclude=./test-artifacts \
  --exclude=./deploy/secrets -cf - . | tar -C "$work/repo" -xf -
export MUPETS_ADMIN_PORT MUPETS_ORIENTDB_STUDIO_PORT
MUPETS_ADMIN_PORT=$(free_port)
MUPETS_ORIENTDB_STUDIO_PORT=$(free_port)
unset MUPETS_REDIS_PORT MUPETS_ORIENTDB_PORT MUPETS_ARCHIVER_HEALTH_PORT MUPETS_ARCHIVER_INSPECT_PORT MUPETS_ADMIN_INSPECT_PORT MUPETS_INSPECT
admin_url="http://127.0.0.1:$MUPETS_ADMIN_PORT"

if want dev; then
say "dev: up on a copy of the working tree, with 127.0.0.1:6379 taken"
# 127.0.0.1:6379 is taken, as by a local Redis on many developer machines; if nothing listens there,
# this script holds it itself.
port_holder=""
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  node -e 'require("net").createServer((s) => s.end()).listen(6379, "127.0.0.1")' &
  port_holder=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
fi
(exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null || fail "could not take 127.0.0.1:6379 for the busy-machine check"
info "127.0.0.1:6379 is taken by another server${port_holder:+ (held by this script)}"
started+=(dev)
t=$(now)
dev build >"$work/dev-build.log" 2>&1 || {
  tail -n 40 "$work/dev-build.log" >&2
  fail "docker compose build (dev)"
}
figure "dev build time (s)" "$(since "$t")"
t=$(now)
dev up -d --wait --wait-timeout "$TIMEOUT" >"$work/dev-up.log" 2>&1 || {
  cat "$work/dev-up.log" >&2
  dev ps -a >&2 || true
  dev logs --no-color --tail 30 log-archiver admin >&2 || true
  fail "docker compose up --wait (dev), with 127.0.0.1:6379 taken"
}
figure "dev cold up to healthy (s)" "$(since "$t")"
# published_port SERVICE PORT: the 127.0.0.1 port Docker picked for it
published_port() {
  local hp
  hp=$(dev port "$1" "$2") || fail "docker compose port $1 $2"
  [[ "$hp" == 127.0.0.1:* ]] || fail "$1:$2 is published on $hp, expected 127.0.0.1 only"
  echo "${hp##*:}"
}
redis_port=$(published_port redis 6379)
[ "$redis_port" != 6379 ] || fail "the dev Redis was published on 6379, which another server holds"
[ "$(docker exec "$(dev ps -q redis)" redis-cli ping)" = PONG ] || fail "the dev Redis does not answer"
curl -fsS "http://127.0.0.1:$(published_port log-archiver 8080)/readyz" >/dev/null || fail "dev /readyz on 127.0.0.1"
# the Node inspectors are opt-in (MUPETS_INSPECT, unset here): nothing answers behind their ports
for service in log-archiver admin log-collector; do
  ! curl -fsS -m 5 "http://127.0.0.1:$(published_port "$service" 9229)/json/list" >/dev/null 2>&1 ||
    fail "the dev $service's Node inspector answers without MUPETS_INSPECT"
done
curl -fsS -o /dev/null "http://127.0.0.1:$MUPETS_ORIENTDB_STUDIO_PORT/studio/index.html" || fail "dev Studio on 127.0.0.1:$MUPETS_ORIENTDB_STUDIO_PORT"
info "up with 6379 taken: Redis on 127.0.0.1:$redis_port (docker compose port redis 6379), Studio answers, no inspector does"

say "dev: first login to the admin, as docs/docker.md tells a newcomer"
admin_log=$(dev logs --no-color admin 2>&1)
[[ "$admin_log" == *"/data/initial-password"* ]] ||
  fail "the admin's log does not say where the first-run password is: $(tail -n 20 <<<"$admin_log")"
[[ "$admin_log" == *"$admin_url"* ]] || fail "the admin's log does not print its address $admin_url: $(tail -n 20 <<<"$admin_log")"
dev exec -T admin cat /data/initial-password >"$work/initial-password" || fail "docker compose exec admin cat /data/initial-password"
admin_login "$work/initial-password"
submit_event e2e.dev
wait_record events "$event_id"
wait_container_line redis "Ready to accept connections"
wait_container_line orientdb "OrientDB Studio available"
info "logged in with /data/initial-password; an event went through to the archive; Redis's and OrientDB's own startup lines are there (log-collector)"

say "dev: edit a mounted source file; the service restarts and runs it, same container, same image"
archiver_id=$(dev ps -q log-archiver)
before=$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$archiver_id")
marker="e2e-docker edit $RUN"
main="$work/repo/images/log-archiver/src/main.ts"
grep -q "logger.info('archive schema ready'" "$main" || fail "main.ts no longer logs 'archive schema ready'; adapt this script"
sed -i "/logger.info('archive schema ready'/a\\  logger.info('$marker');" "$main"
t=$(now)
end=$(($(date +%s) + TIMEOUT))
until docker logs "$archiver_id" 2>&1 | grep -q "$marker"; do
  [ "$(date +%s)" -lt $end ] || fail "the edited source did not run within ${TIMEOUT}s: $(docker logs --tail 20 "$archiver_id" 2>&1)"
  sleep 0.3
done
figure "dev edit to edited code running (s)" "$(since "$t")"
touch "$work/repo/packages/cargo/src/logger.ts"
end=$(($(date +%s) + TIMEOUT))
until docker logs "$archiver_id" 2>&1 | grep -q "Change detected in '/app/packages/cargo/src/logger.ts'"; do
  [ "$(date +%s)" -lt $end ] || fail "a change in packages/cargo did not restart the service"
  sleep 0.3
done
info "a change under packages/ restarts it too"
wait_healthy dev 3
[ "$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$archiver_id")" = "$before" ] ||
  fail "the container was restarted or recreated; expected node --watch to restart the process inside it"
info "same container, same image: no rebuild"

say "dev: edit a mounted admin source file; the admin restarts and serves the change, same container"
admin_id=$(dev ps -q admin)
before=$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$admin_id")
app="$work/repo/images/admin/src/app.ts"
grep -q "response.json({ status: 'ok' });" "$app" || fail "app.ts no longer answers /healthz with { status: 'ok' }; adapt this script"
sed -i "s/response.json({ status: 'ok' });/response.json({ status: 'ok', edited: '$marker' });/" "$app"
t=$(now)
end=$(($(date +%s) + TIMEOUT))
until [[ "$(curl -fsS "$admin_url/healthz" 2>/dev/null)" == *"$marker"* ]]; do
  [ "$(date +%s)" -lt $end ] || fail "the admin does not serve the edited /healthz within ${TIMEOUT}s: $(docker logs --tail 20 "$admin_id" 2>&1)"
  sleep 0.3
done
figure "dev admin edit to edited response served (s)" "$(since "$t")"
wait_healthy dev 4
[ "$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$admin_id")" = "$before" ] ||
  fail "the admin container was restarted or recreated; expected node --watch to restart the process inside it"
info "same container, same image: no rebuild"

say "dev: edit a mounted web UI source; the admin rebuilds and serves it without a restart"
wait_ui
old_script=$ui_script
before=$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$admin_id")
restarts=$(docker logs "$admin_id" 2>&1 | grep -c 'Change detected in' || true)
printf "\nconsole.info('%s');\n" "$marker" >>"$work/repo/images/admin/web/src/main.tsx"
t=$(now)
wait_ui "$marker"
figure "dev UI edit to rebuilt UI served (s)" "$(since "$t")"
[ "$(docker inspect -f '{{.State.StartedAt}} {{.Image}}' "$admin_id")" = "$before" ] ||
  fail "the admin container was restarted or recreated by a UI edit"
[ "$(docker logs "$admin_id" 2>&1 | grep -c 'Change detected in' || true)" = "$restarts" ] ||
  fail "a UI edit restarted the admin process; esbuild inside it should rebuild the UI instead"
info "rebuilt ($old_script -> $ui_script), same process"

say "dev: down -v"
mounts=$(for id in $(dev ps -a -q); do docker inspect -f '{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}' "$id"; done)
dev down -v --remove-orphans >/dev/null 2>&1 || fail "docker compose down -v (dev)"
for v in $mounts; do
  if docker volume inspect "$v" >/dev/null 2>&1; then fail "left behind by down -v: volume $v"; fi
done
[ -z "$(project_resources "$DEV")" ] || fail "left behind by down -v: $(project_resources "$DEV")"
started=()
fi

# ---------------------------------------------------------------------------------------------------
if want kafka; then
say "kafka: the dev stack with --profile kafka and MUPETS_BROKER=kafka"
stack=kdev
export MUPETS_KAFKA_PORT MUPETS_INSPECT
MUPETS_KAFKA_PORT=$(free_port)
# this stack turns the Node inspectors on: reachable from the host, on 127.0.0.1 only
MUPETS_INSPECT=0.0.0.0:9229
started+=(kafka)
t=$(now)
kdev up -d --build --wait --wait-timeout "$TIMEOUT" >"$work/kafka-up.log" 2>&1 || {
  cat "$work/kafka-up.log" >&2
  kdev ps -a >&2 || true
  kdev logs --no-color --tail 30 >&2 || true
  fail "docker compose --profile kafka up --wait (dev, MUPETS_BROKER=kafka)"
}
figure "kafka dev cold up to healthy (s)" "$(since "$t")"
for service in log-archiver admin; do
  hp=$(kdev port "$service" 9229) || fail "docker compose port $service 9229 (kafka)"
  [[ "$hp" == 127.0.0.1:* ]] || fail "$service:9229 is published on $hp, expected 127.0.0.1 only"
  curl -fsS "http://$hp/json/list" | grep -q main.ts || fail "the $service's Node inspector, on with MUPETS_INSPECT, on $hp"
done
info "with MUPETS_INSPECT=0.0.0.0:9229 the inspectors answer on 127.0.0.1"
kafka_id=$(kdev ps -q kafka)
[ -n "$kafka_id" ] || fail "the kafka profile started no kafka container"
for service in log-archiver admin; do
  [ "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$(kdev ps -q "$service")" | grep '^BROKER=')" = BROKER=kafka ] ||
    fail "the $service of the kafka stack does not run with BROKER=kafka"
done
kdev exec -T admin cat /data/initial-password >"$work/kafka-password" || fail "docker compose exec admin cat /data/initial-password (kafka)"
admin_login "$work/kafka-password"
t=$(now)
submit_event e2e.kafka
wait_record events "$event_id"
figure "kafka event submitted through the admin, archived, read back through the admin (s)" "$(since "$t")"

# kpublish SERVICE_TAG FROM TO: envelopes FROM..TO into the logs topic, with Kafka's own console producer
kpublish() {
  local tag=$1 from=$2 to=$3 i
  for ((i = from; i <= to; i++)); do
    printf '{"id":"%s","channel":"logs","type":"log","ts":"%s","source":{"service":"%s"},"level":"info","message":"e2e kafka message %d","v":1}\n' \
      "$(cat /proc/sys/kernel/random/uuid)" "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$tag" "$i"
  done | docker exec -i "$kafka_id" /opt/kafka/bin/kafka-console-producer.sh --bootstrap-server localhost:9092 \
    --topic mupets.logs --producer-property acks=all >/dev/null
}
tag3="e2e-$RUN-k"
kbatches=4
t=$(now)
(
  for ((b = 0; b < kbatches; b++)); do
    kpublish "$tag3" $((b * MESSAGES / 2 + 1)) $(((b + 1) * MESSAGES / 2))
  done
) &
publisher=$!
sleep 2
archiver_id=$(kdev ps -q log-archiver)
docker kill -s KILL "$archiver_id" >/dev/null
info "log-archiver killed while the console producer sends"
sleep 1
docker start "$archiver_id" >/dev/null
wait "$publisher" || fail "kafka-console-producer failed"
wait_archived "$tag3" $((kbatches * MESSAGES / 2))
figure "kafka $((kbatches * MESSAGES / 2)) messages from kafka-console-producer across a kill, all archived once (s)" "$(since "$t")"

say "kafka: down -v"
kdev down -v --remove-orphans >/dev/null 2>&1 || fail "docker compose down -v (kafka)"
[ -z "$(project_resources "$KAFKA")" ] || fail "left behind by down -v: $(project_resources "$KAFKA")"
started=()
fi

say "figures"
printf '   %s\n' "${figures[@]}"
say "e2e-docker: passed"
