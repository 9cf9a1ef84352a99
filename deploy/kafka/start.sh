#!/bin/sh
# Starts Kafka through the image's own entry point (/etc/kafka/docker/run) and, once its internal
# listener answers, gives each role its SCRAM-SHA-512 credentials (from broker_<user>_password) and
# its ACLs (deploy/kafka/acls.sh); then marks the broker ready for the healthcheck. Runs at every
# start: setting a credential or an ACL again changes nothing.
# MUPETS_KAFKA_SECRETS   where the broker_<user>_password files are (default /run/secrets)
# MUPETS_KAFKA_INTERNAL  the PLAINTEXT listener reachable only inside the container (127.0.0.1:9094)
set -eu
here=$(dirname "$0")
secrets=${MUPETS_KAFKA_SECRETS:-/run/secrets}
internal=${MUPETS_KAFKA_INTERNAL:-127.0.0.1:9094}
ready=/tmp/mupets-kafka-ready
PATH=/opt/kafka/bin:$PATH
export PATH
rm -f "$ready"
/etc/kafka/docker/run &
kafka=$!
# docker stop: pass SIGTERM on, then wait for Kafka's clean shutdown
trap 'kill -TERM "$kafka" 2>/dev/null || true' TERM INT
until kafka-broker-api-versions.sh --bootstrap-server "$internal" >/dev/null 2>&1; do
  kill -0 "$kafka" 2>/dev/null || { wait "$kafka"; exit $?; }
  sleep 2
done
for user in archiver admin ingest collector service; do
  password=$(cat "$secrets/broker_${user}_password")
  case $password in
    *[!A-Za-z0-9._~-]*) echo "start.sh: broker_${user}_password may hold only letters, digits and . _ ~ -" >&2; exit 2 ;;
  esac
  # kafka-configs takes the credential only as an argument (its --add-config-file refuses SCRAM
  # entries), and it echoes a credential it refuses: its output never reaches the log
  kafka-configs.sh --bootstrap-server "$internal" --alter --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-512=[password=$password]" >/dev/null 2>&1 || {
    echo "start.sh: could not set the SCRAM credential of $user" >&2
    exit 1
  }
done
sh "$here/acls.sh" "$internal"
touch "$ready"
echo "start.sh: SCRAM users and ACLs set"
wait "$kafka" || true
# after a signal the first wait returns at once: wait for Kafka itself to stop
wait "$kafka"
