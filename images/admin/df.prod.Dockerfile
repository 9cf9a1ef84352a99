# The admin's production image: the API, the built web UI and health endpoints, no dev tooling; the
# service runs as `node`. The same image serves staging and production; everything else comes from the
# environment (secrets as *_FILE, see docs/docker.md). Build context: the repository root.
#
#   docker build -f images/admin/df.prod.Dockerfile \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" -t mupets/admin:0.1.0 .

ARG NODE_VERSION=24

# --- manifests: every workspace's package.json, and the lockfile --------------------------------
# npm ci needs all workspaces the lockfile names; COPY cannot keep the paths of a glob, so they are
# gathered here. This stage reruns on any change, but its output (and so the npm ci layers below)
# changes only with a package.json or the lockfile.
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents '{}' /out ';' \
 && cp package-lock.json /out/

# --- build: all dependencies, compile the workspaces the admin needs, bundle the web UI ----------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY --from=manifests /out/ ./
# --ignore-scripts: the lockfile's one install script is orientjs-native's optional node-gyp build,
# which needs a compiler the slim image does not have; orientjs runs without it
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/ packages/
COPY images/admin/ images/admin/
# the root's workspace order (broker, cargo, archive, tokens, images) is the dependency order; the admin's
# build also bundles the web UI into images/admin/web/dist (web/build.mjs)
RUN npm run build --workspace=packages/broker --workspace=packages/cargo --workspace=packages/archive --workspace=packages/tokens \
      --workspace=images/admin \
 && mkdir /runtime \
 && for ws in packages/broker packages/cargo packages/archive packages/tokens images/admin; do \
      mkdir -p "/runtime/$ws" && cp -r "$ws/package.json" "$ws/dist" "/runtime/$ws/"; \
    done \
 && mkdir -p /runtime/images/admin/web \
 && cp -r images/admin/web/dist /runtime/images/admin/web/ \
 && cp packages/cargo/healthcheck.js /runtime/packages/cargo/ \
 && find /runtime -name '*.d.ts' -delete

# --- prod-deps: the admin's production dependencies only ----------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
# Trimmed to stay well under 60 MB over the base: argon2 ships prebuilt binaries for every platform
# and loads the one that fits (the others go), and type declarations are never loaded at run time.
RUN npm ci --omit=dev --workspace=@mupets/admin --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf node_modules/@mupets/testkit node_modules/@types \
 && find node_modules/argon2/prebuilds -mindepth 1 -maxdepth 1 -not -name "linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')" \
      -exec rm -rf '{}' + \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.d.ts.map' \) -delete

# --- runtime ----------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mupets-admin" \
      org.opencontainers.image.description="Mupets admin: web UI and API for the live stream, the archive, events, the broker and the stack's containers" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Mupets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
ENV NODE_ENV=production
WORKDIR /app
# /data: ADMIN_DATA_DIR (the first-run password when no ADMIN_PASSWORD_FILE is given), owned by
# `node` so that a named volume mounted there takes that owner when it is created
RUN mkdir /data && chown node:node /data
COPY images/admin/docker-entrypoint.sh /usr/local/bin/mupets-admin-entrypoint
# root owns the application files; the service runs as `node` and cannot change them
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /runtime/ ./
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "packages/cargo/healthcheck.js", "ADMIN"]
# the compose files start the container as root so that it can join the Docker socket's group and
# then run as `node` (docker-entrypoint.sh); as `node` (the default) it just execs the command
ENTRYPOINT ["/bin/sh", "/usr/local/bin/mupets-admin-entrypoint"]
# exec form: SIGTERM reaches node, whose lifecycle stops intake, drains and closes within SHUTDOWN_DEADLINE_MS
CMD ["node", "--enable-source-maps", "images/admin/dist/main.js"]
