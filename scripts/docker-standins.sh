#!/usr/bin/env bash
# Makes this machine able to run the compose files without Docker Hub: a Docker engine with
# `docker compose` (shared/tools/docker-host.sh), then a local stand-in for every canonical image the
# compose files and Dockerfiles name (shared/tools/standin-images.sh). Only for machines that cannot
# pull (CI here); a real user pulls the real images and never needs this. Idempotent; needs root.
#
#   ./scripts/docker-standins.sh            # engine + stand-ins
#   ./scripts/docker-standins.sh --tags     # only print the tags it would build
#
# shared/ is found beside the repository (CI keeps a read-only copy at $(dirname repo)/shared), or at
# MUPETS_SHARED_TOOLS. Stand-ins are cached in STANDIN_CACHE (default /var/cache/standin-images).
#
# Two workarounds for standin-images.sh on a fresh cache, done here because shared/ is read-only:
# - the OpenJDK package's postinst registers man pages with update-alternatives and fails when
#   /usr/share/man/man1 is missing, which the slim rootfs's dpkg excludes drop. The cached base rootfs
#   is built first and given that (empty) directory, so every copy of it has one; the images still
#   ship without man pages (slim_rootfs empties /usr/share/man).
# - when apt fails inside its chroot, the builder exits with /proc still mounted in the half-built
#   rootfs, and the next run cannot delete it: such mounts under the cache are unmounted first.
# It also puts the OrientDB distribution in the cache from Maven Central over HTTPS (checksum
# verified), so the OrientDB stand-in does not need Maven installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf 'docker-standins: %s\n' "$*" >&2; }

# --- the tags: canonical images of the services compose starts by default, and the node base ------
node_version=${MUPETS_NODE_VERSION:-24}
compose_images() {
  # `config` resolves every variable; every profile is included (kafka is opt-in for users, but the
  # e2e runs it); services with build: are ours and never pulled
  MUPETS_SECRETS_DIR=${MUPETS_SECRETS_DIR:-/nonexistent} docker compose -f "$1" --profile '*' config --format json |
    node -e '
      const services = JSON.parse(require("fs").readFileSync(0, "utf8")).services;
      for (const s of Object.values(services)) if (s.image && !s.build) console.log(s.image);
    '
}

tags() {
  {
    compose_images docker-compose.dev.yml
    compose_images docker-compose.prod.yml
    # every cargo Dockerfile starts FROM node:${NODE_VERSION}-bookworm-slim
    grep -h '^FROM node:' images/*/df.*.Dockerfile | awk '{ print $2 }' |
      sed "s/\${NODE_VERSION}/$node_version/"
  } | sort -u
}

if [ "${1:-}" = --tags ]; then
  docker compose version >/dev/null 2>&1 || {
    say "docker compose (v2) is not installed"
    exit 1
  }
  tags
  exit 0
fi

[ "$(id -u)" = 0 ] || {
  say "needs root (it installs the Docker engine and builds root filesystems)"
  exit 1
}

tools=${MUPETS_SHARED_TOOLS:-$(dirname "$root")/shared/tools}
[ -x "$tools/docker-host.sh" ] && [ -x "$tools/standin-images.sh" ] || {
  say "no docker-host.sh / standin-images.sh in $tools (set MUPETS_SHARED_TOOLS)"
  exit 1
}

"$tools/docker-host.sh" >&2

mapfile -t wanted < <(tags)
missing=()
for tag in "${wanted[@]}"; do
  docker image inspect "$tag" >/dev/null 2>&1 || missing+=("$tag")
done
if [ ${#missing[@]} = 0 ]; then
  say "all present: ${wanted[*]}"
  exit 0
fi
say "building ${missing[*]}"

cache=${STANDIN_CACHE:-/var/cache/standin-images}
export STANDIN_CACHE=$cache
mkdir -p "$cache"

# a /proc left mounted by a failed chroot_apt (see above)
awk -v c="$cache/" 'index($2, c) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
  say "unmounting $m, left by an earlier failed build"
  umount "$m" || umount -l "$m"
done

# the base rootfs, built by the same function standin-images.sh uses, plus the man1 directory
(
  set +u
  # shellcheck source=/dev/null
  . "$tools/lib/rootfs.sh"
  base_rootfs "$cache/rootfs-base"
)
mkdir -p "$cache/rootfs-base/usr/share/man/man1"

for tag in "${missing[@]}"; do
  case "$tag" in
    orientdb:*)
      ver=${tag#orientdb:}
      ver=${ver%%-*}
      dist="$cache/orientdb-community-$ver.tar.gz"
      [ -s "$dist" ] && continue
      url="https://repo1.maven.org/maven2/com/orientechnologies/orientdb-community/$ver/orientdb-community-$ver.tar.gz"
      say "downloading OrientDB $ver from Maven Central"
      if curl -fsSL --retry 3 -o "$dist.part" "$url"; then
        [ "$(curl -fsSL --retry 3 "$url.sha1" | cut -c1-40)" = "$(sha1sum "$dist.part" | cut -d' ' -f1)" ] || {
          rm -f "$dist.part"
          say "checksum mismatch for $url"
          exit 1
        }
        mv "$dist.part" "$dist"
      else
        rm -f "$dist.part" # standin-images.sh falls back to mvn
      fi
      ;;
  esac
done

"$tools/standin-images.sh" "${missing[@]}"
