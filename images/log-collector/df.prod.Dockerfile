# The log-collector's production image: self-contained, no dev tooling, runs as `node`.
# The same image serves staging and production; everything else comes from the environment
# (secrets as *_FILE, see docs/docker.md). Build context: the repository root.
#
#   docker build -f images/log-collector/df.prod.Dockerfile \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" -t mupets/log-collector:0.1.0 .

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

# --- build: all dependencies, compile the workspaces the collector needs --------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY --from=manifests /out/ ./
# --ignore-scripts: the lockfile's one install script is orientjs-native's optional node-gyp build,
# which needs a compiler the slim image does not have; orientjs runs without it
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/ packages/
COPY images/log-collector/ images/log-collector/
# the root's workspace order (broker, cargo, images) is the dependency order
RUN npm run build --workspace=packages/broker --workspace=packages/cargo --workspace=images/log-collector \
 && mkdir /runtime \
 && for ws in packages/broker packages/cargo images/log-collector; do \
      mkdir -p "/runtime/$ws" && cp -r "$ws/package.json" "$ws/dist" "/runtime/$ws/"; \
    done \
 && cp packages/cargo/healthcheck.js /runtime/packages/cargo/ \
 && find /runtime -name '*.d.ts' -delete

# --- prod-deps: the collector's production dependencies only --------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev --workspace=@mupets/log-collector --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -f node_modules/@mupets/testkit

# --- runtime ----------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mupets-log-collector" \
      org.opencontainers.image.description="Mupets log-collector: publishes the stdout and stderr of every container of its compose project to the broker" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Mupets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# the collector holds at most COLLECTOR_BUFFER_RECORDS records per container: a small heap is plenty
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=128
WORKDIR /app
# root owns the application files; the service runs as `node` and cannot change them
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /runtime/ ./
# The Docker socket's group id differs per host: compose starts the container as root with only
# SETUID/SETGID, and the admin's entry point drops to `node` with that group (see the script)
COPY images/admin/docker-entrypoint.sh /usr/local/bin/mupets-socket-entrypoint
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "packages/cargo/healthcheck.js"]
ENTRYPOINT ["/bin/sh", "/usr/local/bin/mupets-socket-entrypoint"]
# exec form: SIGTERM reaches node, whose lifecycle stops reading, publishes what was read and closes
# within SHUTDOWN_DEADLINE_MS
CMD ["node", "--enable-source-maps", "images/log-collector/dist/main.js"]
