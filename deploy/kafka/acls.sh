#!/bin/sh
# The Kafka ACLs of the prod stack, one principal per role (SASL/SCRAM users of the same names):
# what each may do on the topics and consumer groups of the channels, and nothing else.
#   sh deploy/kafka/acls.sh <bootstrap server> [kafka-acls.sh options, e.g. --command-config file]
# Kafka's own kafka-acls.sh must be on PATH. Adding an ACL twice is harmless: run it at every start.
# MUPETS_BROKER_KEY_PREFIX  the topic and group id prefix the services use (default mupets.)
set -eu
server=$1
shift
p=${MUPETS_BROKER_KEY_PREFIX:-mupets.}
case $p in
  *[!A-Za-z0-9._-]*) echo "acls.sh: MUPETS_BROKER_KEY_PREFIX may hold only letters, digits and . _ -" >&2; exit 2 ;;
esac
allow() { # PRINCIPAL OPERATIONS... -- RESOURCES...
  principal=$1
  shift
  ops=''
  while [ "$1" != -- ]; do ops="$ops --operation $1"; shift; done
  shift
  # shellcheck disable=SC2086 # word splitting of the option lists is meant
  kafka-acls.sh --bootstrap-server "$server" "$@" --add --allow-principal "User:$principal" $ops >/dev/null
}

# log-archiver: consumes logs, events and audit in its group, trims them (DeleteRecords), writes
# dead letters and its own logs; never another service's group, never writes events or audit
allow archiver Read Describe Create Delete -- --topic "${p}logs" --topic "${p}events" --topic "${p}audit"
allow archiver Write -- --topic "${p}logs"
allow archiver Write Describe Create -- --topic "${p}logs.dead" --topic "${p}events.dead" --topic "${p}audit.dead"
allow archiver Read Describe -- --group "${p}logs/log-archiver" --group "${p}events/log-archiver" --group "${p}audit/log-archiver"

# admin: reads and follows every channel, reads every group's offsets and removes an idle group;
# publishes submitted events, the audit trail and its own logs
allow admin Read Describe -- --topic "$p" --resource-pattern-type prefixed
allow admin Describe Delete -- --group "$p" --resource-pattern-type prefixed
allow admin Write Create -- --topic "${p}logs" --topic "${p}events" --topic "${p}audit"

# ingest and the cargo services: publish to logs and events
for user in ingest service; do
  allow "$user" Write Describe Create -- --topic "${p}logs" --topic "${p}events"
done

# log-collector: publishes to logs and reads it back (to settle a batch cut short)
allow collector Write Describe Create Read -- --topic "${p}logs"
