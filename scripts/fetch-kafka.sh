#!/usr/bin/env bash
# Fetches the Apache Kafka jars that the Kafka tests and `bench:publish -- --broker kafka` run (a KRaft
# broker, its storage tool, the producer performance tool), once, into a cache outside the repo:
#   ${MUPETS_CACHE:-$HOME/.cache/mupets}/kafka-<version>/libs
# Idempotent: quiet and instant when the cache is complete. Needs curl (each jar from Maven Central,
# checked against its .sha1); when curl cannot reach Central (a Maven mirror), falls back to mvn.
#   --resolve   print the jar list for KAFKA_VERSION with mvn (to update JARS below on an upgrade)
set -euo pipefail

KAFKA_VERSION=4.1.2
LOG4J_VERSION=2.24.3
CENTRAL=https://repo1.maven.org/maven2
cache="${MUPETS_CACHE:-$HOME/.cache/mupets}/kafka-${KAFKA_VERSION}"
libs="$cache/libs"

# the broker (kafka_2.13 pulls in server, raft, metadata, storage, clients), the tools (ProducerPerformance),
# and the log4j2 binding for slf4j 1.7 (as the distribution ships it) so the broker's own log can be read
pom() {
  cat <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>mupets</groupId>
  <artifactId>fetch-kafka</artifactId>
  <version>0</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>${LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
POM
}

# the runtime closure of the pom above, as `mvn dependency:list` resolves it (group:artifact:version)
JARS=(
  at.yawk.lz4:lz4-java:1.10.1
  com.dynatrace.hash4j:hash4j:0.22.0
  com.fasterxml.jackson.core:jackson-annotations:2.19.4
  com.fasterxml.jackson.core:jackson-core:2.19.4
  com.fasterxml.jackson.core:jackson-databind:2.19.4
  com.fasterxml.jackson.dataformat:jackson-dataformat-csv:2.19.4
  com.fasterxml.jackson.dataformat:jackson-dataformat-yaml:2.19.4
  com.fasterxml.jackson.datatype:jackson-datatype-jdk8:2.19.4
  com.fasterxml.jackson.jakarta.rs:jackson-jakarta-rs-base:2.19.4
  com.fasterxml.jackson.jakarta.rs:jackson-jakarta-rs-json-provider:2.19.4
  com.fasterxml.jackson.module:jackson-module-blackbird:2.19.4
  com.fasterxml.jackson.module:jackson-module-jakarta-xmlbind-annotations:2.19.4
  com.github.ben-manes.caffeine:caffeine:3.2.0
  com.github.luben:zstd-jni:1.5.6-10
  com.google.re2j:re2j:1.8
  com.sun.activation:jakarta.activation:2.0.1
  com.typesafe.scala-logging:scala-logging_2.13:3.9.5
  com.yammer.metrics:metrics-core:2.2.0
  commons-beanutils:commons-beanutils:1.11.0
  commons-collections:commons-collections:3.2.2
  commons-digester:commons-digester:2.1
  commons-logging:commons-logging:1.3.5
  commons-validator:commons-validator:1.10.1
  io.github.classgraph:classgraph:4.8.179
  io.swagger.core.v3:swagger-annotations:2.2.25
  jakarta.activation:jakarta.activation-api:2.1.0
  jakarta.annotation:jakarta.annotation-api:2.1.1
  jakarta.inject:jakarta.inject-api:2.0.1
  jakarta.servlet:jakarta.servlet-api:6.0.0
  jakarta.validation:jakarta.validation-api:3.0.2
  jakarta.ws.rs:jakarta.ws.rs-api:3.1.0
  jakarta.xml.bind:jakarta.xml.bind-api:3.0.1
  javax.activation:activation:1.1.1
  javax.activation:javax.activation-api:1.2.0
  javax.xml.bind:jaxb-api:2.3.1
  net.sf.jopt-simple:jopt-simple:5.0.4
  net.sourceforge.argparse4j:argparse4j:0.7.0
  org.apache.commons:commons-lang3:3.12.0
  org.apache.kafka:connect-api:4.1.2
  org.apache.kafka:connect-json:4.1.2
  org.apache.kafka:connect-runtime:4.1.2
  org.apache.kafka:connect-transforms:4.1.2
  org.apache.kafka:kafka-clients:4.1.2
  org.apache.kafka:kafka-coordinator-common:4.1.2
  org.apache.kafka:kafka-group-coordinator-api:4.1.2
  org.apache.kafka:kafka-group-coordinator:4.1.2
  org.apache.kafka:kafka-metadata:4.1.2
  org.apache.kafka:kafka-raft:4.1.2
  org.apache.kafka:kafka-server-common:4.1.2
  org.apache.kafka:kafka-server:4.1.2
  org.apache.kafka:kafka-share-coordinator:4.1.2
  org.apache.kafka:kafka-storage-api:4.1.2
  org.apache.kafka:kafka-storage:4.1.2
  org.apache.kafka:kafka-tools-api:4.1.2
  org.apache.kafka:kafka-tools:4.1.2
  org.apache.kafka:kafka-transaction-coordinator:4.1.2
  org.apache.kafka:kafka_2.13:4.1.2
  org.apache.logging.log4j:log4j-api:2.24.3
  org.apache.logging.log4j:log4j-core:2.24.3
  org.apache.logging.log4j:log4j-slf4j-impl:2.24.3
  org.apache.maven:maven-artifact:3.9.6
  org.bitbucket.b_c:jose4j:0.9.6
  org.codehaus.plexus:plexus-utils:3.5.1
  org.eclipse.jetty.ee10:jetty-ee10-servlet:12.0.25
  org.eclipse.jetty.ee10:jetty-ee10-servlets:12.0.25
  org.eclipse.jetty:jetty-alpn-client:12.0.25
  org.eclipse.jetty:jetty-client:12.0.25
  org.eclipse.jetty:jetty-http:12.0.25
  org.eclipse.jetty:jetty-io:12.0.25
  org.eclipse.jetty:jetty-security:12.0.25
  org.eclipse.jetty:jetty-server:12.0.25
  org.eclipse.jetty:jetty-session:12.0.25
  org.eclipse.jetty:jetty-util:12.0.25
  org.glassfish.hk2.external:aopalliance-repackaged:3.0.6
  org.glassfish.hk2:hk2-api:3.0.6
  org.glassfish.hk2:hk2-locator:3.0.6
  org.glassfish.hk2:hk2-utils:3.0.6
  org.glassfish.hk2:osgi-resource-locator:1.0.3
  org.glassfish.jersey.containers:jersey-container-servlet-core:3.1.10
  org.glassfish.jersey.containers:jersey-container-servlet:3.1.10
  org.glassfish.jersey.core:jersey-client:3.1.10
  org.glassfish.jersey.core:jersey-common:3.1.10
  org.glassfish.jersey.core:jersey-server:3.1.10
  org.glassfish.jersey.inject:jersey-hk2:3.1.10
  org.hdrhistogram:HdrHistogram:2.2.2
  org.javassist:javassist:3.30.2-GA
  org.jspecify:jspecify:1.0.0
  org.pcollections:pcollections:4.0.2
  org.scala-lang:scala-library:2.13.16
  org.scala-lang:scala-reflect:2.13.16
  org.slf4j:slf4j-api:1.7.36
  org.xerial.snappy:snappy-java:1.1.10.7
  org.yaml:snakeyaml:2.4
)

if [ "${1:-}" = --resolve ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  pom >"$work/pom.xml"
  mvn -q -B -f "$work/pom.xml" -Dmaven.repo.local="$work/m2" dependency:list -DincludeScope=runtime \
    -DoutputFile="$work/deps.txt" >/dev/null
  grep ':jar:' "$work/deps.txt" | sed 's/^ *//; s/ .*//' | awk -F: '{ print $1 ":" $2 ":" $4 }' | sort
  exit 0
fi

if [ -f "$cache/.complete" ]; then
  exit 0
fi

echo "fetch-kafka: downloading Apache Kafka ${KAFKA_VERSION} (${#JARS[@]} jars) into $libs" >&2
mkdir -p "$cache"
work=$(mktemp -d "$cache/.download.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/libs"

# one jar: download it and its checksum, and keep it only when they agree
fetch_jar() {
  local group=${1%%:*} rest=${1#*:}
  local artifact=${rest%%:*} version=${rest#*:}
  local url="$CENTRAL/${group//.//}/$artifact/$version/$artifact-$version.jar"
  local file="$work/libs/$artifact-$version.jar"
  curl -fsSL --retry 3 -o "$file" "$url" || return 1
  local expected actual
  expected=$(curl -fsSL --retry 3 "$url.sha1" | cut -c1-40)
  actual=$(sha1sum "$file" | cut -c1-40)
  if [ "$expected" != "$actual" ]; then
    echo "fetch-kafka: checksum mismatch for $artifact-$version.jar" >&2
    return 1
  fi
}
export -f fetch_jar
export CENTRAL work

if ! printf '%s\n' "${JARS[@]}" | xargs -P 8 -I{} bash -c 'fetch_jar "$@"' _ {}; then
  if ! command -v mvn >/dev/null; then
    echo "fetch-kafka: could not download the jars from $CENTRAL (and mvn is not installed for a mirror)" >&2
    exit 1
  fi
  # behind a Maven mirror (settings.xml) curl may not reach Central while mvn does
  echo "fetch-kafka: curl failed, resolving with mvn dependency:copy-dependencies" >&2
  rm -rf "$work/libs"
  pom >"$work/pom.xml"
  mvn -q -B -f "$work/pom.xml" -Dmaven.repo.local="$work/m2" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1 || {
    tail -n 40 "$work/mvn.log" >&2
    echo "fetch-kafka: mvn could not fetch the jars either (see above)" >&2
    exit 1
  }
fi
ls "$work/libs/kafka_2.13-${KAFKA_VERSION}.jar" "$work/libs/kafka-tools-${KAFKA_VERSION}.jar" >/dev/null
# into place only when complete, so an interrupted run never leaves a half cache behind
rm -rf "$libs"
mv "$work/libs" "$libs"
touch "$cache/.complete"
echo "fetch-kafka: $(ls "$libs" | wc -l) jars in $libs" >&2
