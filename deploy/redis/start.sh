#!/bin/sh
# Starts Redis with the ACL users of deploy/redis/users.acl: renders it with each role's password
# hash, then execs the command it is given (the image's entry point and redis-server) with --aclfile.
#   sh start.sh docker-entrypoint.sh redis-server --appendonly yes ...
# MUPETS_REDIS_SECRETS  where broker_<user>_password files are (default /run/secrets)
# MUPETS_REDIS_ACL      the rendered file (default /tmp/mupets-users.acl; hashes only, no password)
# MUPETS_BROKER_KEY_PREFIX  the stream key prefix the services use (default mupets:)
set -eu
here=$(dirname "$0")
secrets=${MUPETS_REDIS_SECRETS:-/run/secrets}
acl=${MUPETS_REDIS_ACL:-/tmp/mupets-users.acl}
prefix=${MUPETS_BROKER_KEY_PREFIX:-mupets:}
case $prefix in
  *[!A-Za-z0-9:._-]*) echo "start.sh: MUPETS_BROKER_KEY_PREFIX may hold only letters, digits and : . _ -" >&2; exit 2 ;;
esac
script="s/@P@/$prefix/g"
for user in archiver admin ingest collector service; do
  file="$secrets/broker_${user}_password"
  if [ ! -r "$file" ]; then
    echo "start.sh: cannot read $file (deploy/secrets/README.md)" >&2
    exit 2
  fi
  # the services read the file the same way: one line, a trailing newline ignored
  password=$(cat "$file")
  if [ ${#password} -lt 16 ]; then
    echo "start.sh: $file holds fewer than 16 characters" >&2
    exit 2
  fi
  hash=$(printf %s "$password" | sha256sum | cut -d' ' -f1)
  script="$script;s/@HASH_${user}@/$hash/"
done
(umask 022 && grep -v '^#' "$here/users.acl" | sed "$script" > "$acl")
exec "$@" --aclfile "$acl"
