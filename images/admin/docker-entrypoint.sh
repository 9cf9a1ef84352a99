#!/bin/sh
# Entry point of the admin images (dev and prod). The admin talks to the Docker Engine through the
# socket mounted at DOCKER_SOCKET, which belongs to root and to a group whose id differs from host to
# host (the `docker` group: 999, 998, 121, ...; root on Docker Desktop). A compose file cannot know
# that id, so the compose files start this container as root (`user: '0:0'`) with only the SETUID
# and SETGID capabilities, and this script does the one thing that needs them: it drops to the
# `node` user, adding the socket's group as its only supplementary group, and execs the command.
# Nothing runs as root after this line; the kernel clears every capability at the switch to uid 1000.
# Started as any other user (the image's default, `node`), it just execs the command: the admin then
# runs without Docker access unless that user may use the socket (`--group-add`).
set -eu

# The admin cannot know which host address reaches it; the compose files pass it as ADMIN_PUBLIC_URL.
# Said first, so `docker compose up` shows where to go and how to log in the first time.
if [ -n "${ADMIN_PUBLIC_URL:-}" ]; then
  echo "admin: the web UI will be at $ADMIN_PUBLIC_URL once this service is healthy" >&2
  if [ -z "${ADMIN_PASSWORD_FILE:-}" ]; then
    echo "admin: first login: the password is in ${ADMIN_DATA_DIR:-/data}/initial-password (created on the first start):" >&2
    echo "admin:   docker compose -f docker-compose.dev.yml exec admin cat ${ADMIN_DATA_DIR:-/data}/initial-password" >&2
  fi
fi

if [ "$(id -u)" = 0 ]; then
  # setpriv changes ids, not the environment: npm and friends must not look for root's home
  export HOME=/home/node
  socket=${DOCKER_SOCKET:-/var/run/docker.sock}
  if [ -S "$socket" ]; then
    exec setpriv --reuid=node --regid=node --groups="$(stat -c %g "$socket")" -- "$@"
  fi
  echo "admin entrypoint: no Docker socket at $socket; the containers page will report docker_unavailable" >&2
  exec setpriv --reuid=node --regid=node --clear-groups -- "$@"
fi

exec "$@"
