#!/usr/bin/env bash
# End-to-end check of the Docker setup, non-interactive; exits non-zero on the first failure.
#
#   ./scripts/e2e-docker.sh
#
# prod: builds the images of docker-compose.prod.yml, starts the stack with a generated secret, waits
#       until every service is healthy, publishes envelopes into the Redis stream and waits until
#       OrientDB holds each exactly once; then publishes again while the log-archiver is restarted
#       (SIGTERM) and killed (SIGKILL), and checks that none is lost; `down -v` must leave nothing.
# dev:  starts docker-compose.dev.yml on a copy of the working tree (the repository itself is never
#       edited), changes a mounted source file and checks that the service restarts and runs the
#       change inside the same container, from the same image.
# Prints its measurements (build time, image size over the node base, start-up times) at the end.
#
# Needs docker with `docker compose` (v2, or docker-compose 1.29 behind the plugin shim) and the
# canonical images (pullable, or local stand-ins). Uses its own compose projects and free 127.0.0.1
# ports, refuses to touch a project that already exists, and removes both when done (images stay).
#
# Environment: E2E_PROD_PROJECT (mupetsprod), E2E_DEV_PROJECT (mupetsdev), E2E_MESSAGES (200),
# E2E_TIMEOUT seconds per wait (240), E2E_MAX_IMAGE_GROWTH_MB (60).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

PROD=${E2E_PROD_PROJECT:-mupetsprod}
DEV=${E2E_DEV_PROJECT:-mupetsdev}
MESSAGES=${E2E_MESSAGES:-200}
TIMEOUT=${E2E_TIMEOUT:-240}
MAX_GROWTH_MB=${E2E_MAX_IMAGE_GROWTH_MB:-60}
NODE_VERSION=${MUPETS_NODE_VERSION:-24}
RUN=$(date +%s)-$$

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

command -v docker >/dev/null || fail "docker is not installed"
docker compose version >/dev/null 2>&1 || fail "'docker compose' is not available"
docker info >/dev/null 2>&1 || fail "the Docker engine does not answer"

work=$(mktemp -d "${TMPDIR:-/tmp}/mupets-e2e.XXXXXX")
prod() { docker compose -f "$root/docker-compose.prod.yml" -p "$PROD" "$@"; }
dev() { docker compose -f "$work/repo/docker-compose.dev.yml" -p "$DEV" "$@"; }
started=()

cleanup() {
  local rc=$?
  set +e
  for p in "${started[@]}"; do
    if [ "$p" = prod ]; then prod down -v --remove-orphans >/dev/null 2>&1; fi
    if [ "$p" = dev ]; then dev down -v --remove-orphans >/dev/null 2>&1; fi
  done
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
for p in "$PROD" "$DEV"; do
  [ -z "$(project_resources "$p")" ] ||
    fail "compose project '$p' already has containers, volumes or networks; remove it or set E2E_PROD_PROJECT / E2E_DEV_PROJECT"
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

# publish SERVICE_TAG FROM TO: envelopes FROM..TO into the logs stream, through redis-cli in the redis container
publish() {
  local tag=$1 from=$2 to=$3 i out n
  out=$(
    for ((i = from; i <= to; i++)); do
      printf "XADD mupets:logs * e '{\"id\":\"%s\",\"channel\":\"logs\",\"type\":\"log\",\"ts\":\"%s\",\"source\":{\"service\":\"%s\"},\"level\":\"info\",\"message\":\"e2e message %d\",\"v\":1}'\n" \
        "$(cat /proc/sys/kernel/random/uuid)" "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$tag" "$i"
    done | docker exec -i "$redis_id" redis-cli
  )
  n=$(grep -cE '^[0-9]+-[0-9]+$' <<<"$out" || true)
  [ "$n" -eq $((to - from + 1)) ] || fail "XADD stored $n of $((to - from + 1)): $(grep -v -E '^[0-9]+-[0-9]+$' <<<"$out" | head -3)"
}

# archived SERVICE_TAG: how many records OrientDB holds for it (HTTP API, inside the orientdb container)
archived() {
  local out
  # shellcheck disable=SC2016 # expanded by the container's shell: the password never leaves it
  out=$(prod exec -T orientdb sh -c 'curl -fsS -u "root:$(cat /run/secrets/orientdb_root_password)" "$0"' \
    "http://127.0.0.1:2480/query/mupets/sql/select%20count(*)%20as%20n%20from%20Message%20where%20service%20%3D%20%27$1%27") ||
    return 1
  sed -n 's/.*"n": *\([0-9]*\).*/\1/p' <<<"$out" | head -n 1
}

# wait_archived SERVICE_TAG COUNT
wait_archived() {
  local end=$(($(date +%s) + TIMEOUT)) n=""
  while :; do
    n=$(archived "$1" || true)
    [ "$n" = "$2" ] && return 0
    if [ -n "$n" ] && [ "$n" -gt "$2" ]; then fail "OrientDB holds $n records of $1, more than the $2 published"; fi
    if [ "$(date +%s)" -ge $end ]; then
      docker exec "$redis_id" redis-cli XINFO GROUPS mupets:logs >&2 || true
      prod logs --no-color --tail 40 log-archiver >&2 || true
      fail "OrientDB holds ${n:-?} of the $2 messages of $1 after ${TIMEOUT}s"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------------
say "static: both compose files parse; the prod file is a valid swarm stack"
mkdir -p "$work/secrets"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/orientdb_root_password"
chmod 0644 "$work/secrets/orientdb_root_password" # the archiver reads it as uid 1000
export MUPETS_SECRETS_DIR="$work/secrets"
docker compose -f "$root/docker-compose.dev.yml" config -q || fail "docker-compose.dev.yml does not parse"
docker compose -f "$root/docker-compose.prod.yml" config -q || fail "docker-compose.prod.yml does not parse"
if docker stack config --help >/dev/null 2>&1; then
  # as docs/docker.md deploys it (deploy/stack-filter.awk), with and without the kafka service
  for broker in redis kafka; do
    awk -v broker="$broker" -f "$root/deploy/stack-filter.awk" "$root/docker-compose.prod.yml" |
      docker stack config -c - -c "$root/deploy/stack.yml" >/dev/null || fail "the prod file is not a valid stack ($broker)"
  done
  info "docker stack config: valid"
else
  info "docker stack config: not available in this docker CLI, skipped"
fi

# ---------------------------------------------------------------------------------------------------
say "prod: build"
export MUPETS_TAG=e2e MUPETS_REVISION=e2e-$RUN
export MUPETS_ORIENTDB_MEMORY="-Xms256m -Xmx1g" ARCHIVER_MIN_IDLE_MS=5000 # reclaim a killed consumer's entries soon
t=$(now)
prod build >"$work/build.log" 2>&1 || {
  tail -n 40 "$work/build.log" >&2
  fail "docker compose build (prod)"
}
figure "prod build time (s)" "$(since "$t")"
image="${MUPETS_REGISTRY:-mupets}/log-archiver:e2e"
size=$(docker image inspect -f '{{.Size}}' "$image")
base=$(docker image inspect -f '{{.Size}}' "node:$NODE_VERSION-bookworm-slim")
growth=$(((size - base) / 1000000))
figure "prod image $image (MB)" "$((size / 1000000))"
figure "node:$NODE_VERSION-bookworm-slim base (MB)" "$((base / 1000000))"
figure "prod image over its base (MB)" "$growth"
[ "$growth" -le "$MAX_GROWTH_MB" ] || fail "the prod image is $growth MB over its base (limit $MAX_GROWTH_MB MB)"
[ "$(docker image inspect -f '{{.Config.User}}' "$image")" = node ] || fail "the prod image does not run as user node"
[ "$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$image")" = "e2e-$RUN" ] ||
  fail "the prod image lacks its org.opencontainers.image.revision label"

say "prod: up (cold: new volumes)"
started+=(prod)
t=$(now)
prod up -d >"$work/up.log" 2>&1 || {
  cat "$work/up.log" >&2
  fail "docker compose up (prod)"
}
wait_healthy prod 3
figure "prod cold up to healthy (s)" "$(since "$t")"
redis_id=$(container redis)
[ -z "$(docker port "$(container log-archiver)")$(docker port "$(container orientdb)")$(docker port "$redis_id")" ] ||
  fail "the prod stack publishes a port"
if docker inspect -f '{{json .Config.Env}}' "$(container orientdb)" | grep -q ORIENTDB_ROOT_PASSWORD; then
  fail "the OrientDB password is visible in the container's configuration"
fi

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
wait_healthy prod 3
wait_archived "$tag2" $((batches * MESSAGES / 10))
figure "prod $((batches * MESSAGES / 10)) messages across restart + kill, all archived; last wait (s)" "$(since "$t")"
if [ "$(archived "$tag1")" != "$MESSAGES" ]; then fail "the first messages changed after the restarts"; fi

say "prod: down -v"
mounts=$(for id in $(prod ps -a -q); do docker inspect -f '{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}' "$id"; done)
prod down -v --remove-orphans >/dev/null 2>&1 || fail "docker compose down -v (prod)"
left="$(project_resources "$PROD")"
for v in $mounts; do
  if docker volume inspect "$v" >/dev/null 2>&1; then left="$left $v"; fi
done
[ -z "${left// /}" ] || fail "left behind by down -v: $left"
info "no container, volume (named or anonymous) or network of $PROD left"

# ---------------------------------------------------------------------------------------------------
say "dev: up on a copy of the working tree"
mkdir -p "$work/repo"
tar -C "$root" --exclude=./.git --exclude=node_modules --exclude=dist --exclude=./test-artifacts \
  --exclude=./deploy/secrets -cf - . | tar -C "$work/repo" -xf -
export MUPETS_REDIS_PORT MUPETS_ORIENTDB_PORT MUPETS_ORIENTDB_STUDIO_PORT MUPETS_ARCHIVER_HEALTH_PORT \
  MUPETS_ARCHIVER_INSPECT_PORT
MUPETS_REDIS_PORT=$(free_port)
MUPETS_ORIENTDB_PORT=$(free_port)
MUPETS_ORIENTDB_STUDIO_PORT=$(free_port)
MUPETS_ARCHIVER_HEALTH_PORT=$(free_port)
MUPETS_ARCHIVER_INSPECT_PORT=$(free_port)
started+=(dev)
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
wait_healthy dev 3
figure "dev cold up to healthy (s)" "$(since "$t")"
curl -fsS "http://127.0.0.1:$MUPETS_ARCHIVER_HEALTH_PORT/readyz" >/dev/null || fail "dev /readyz on 127.0.0.1"
curl -fsS "http://127.0.0.1:$MUPETS_ARCHIVER_INSPECT_PORT/json/list" | grep -q main.ts || fail "dev inspector on 127.0.0.1"

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

say "dev: down -v"
dev down -v --remove-orphans >/dev/null 2>&1 || fail "docker compose down -v (dev)"
[ -z "$(project_resources "$DEV")" ] || fail "left behind by down -v: $(project_resources "$DEV")"
started=()

say "figures"
printf '   %s\n' "${figures[@]}"
say "e2e-docker: passed"
