#!/usr/bin/env bash
# Downloads the OrientDB community distribution once, from Maven Central, into a cache outside the
# repository; the test harness and the benchmarks run the server from there with the machine's Java.
# Idempotent and quiet when the cache is already there. Prints the distribution's directory.
set -euo pipefail

version="${ORIENTDB_VERSION:-3.2.25}"
cache="${MUPETS_CACHE:-$HOME/.cache/mupets}"
home="$cache/orientdb-community-$version"
base="https://repo1.maven.org/maven2/com/orientechnologies/orientdb-community/$version"
tarball="orientdb-community-$version.tar.gz"

if [[ -f "$home/lib/orientdb-server-$version.jar" ]]; then
  echo "$home"
  exit 0
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.orientdb-download.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-orientdb: downloading OrientDB $version from Maven Central" >&2
if ! curl -fsSL --retry 3 -o "$work/$tarball" "$base/$tarball"; then
  # behind a Maven mirror (settings.xml) curl may not reach Central while mvn does
  echo "fetch-orientdb: curl failed, trying mvn dependency:copy" >&2
  mvn -q -B dependency:copy \
    -Dartifact="com.orientechnologies:orientdb-community:$version:tar.gz" \
    -DoutputDirectory="$work" -Dmdep.stripVersion=false >&2
else
  expected="$(curl -fsSL --retry 3 "$base/$tarball.sha1" | cut -c1-40)"
  actual="$(sha1sum "$work/$tarball" | cut -d' ' -f1)"
  if [[ "$expected" != "$actual" ]]; then
    echo "fetch-orientdb: checksum mismatch for $tarball (expected $expected, got $actual)" >&2
    exit 1
  fi
fi

tar -xzf "$work/$tarball" -C "$work"
rm -rf "$home"
mv "$work/orientdb-community-$version" "$home"
echo "$home"
