# The log-archiver's production image: self-contained, no dev tooling, runs as `node`.
# The same image serves staging and production; everything else comes from the environment
# (secrets as *_FILE, see docs/docker.md). Build context: the repository root.
#
#   docker build -f images/log-archiver/df.prod.Dockerfile \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" -t mupets/log-archiver:0.1.0 .

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

# --- build: all dependencies, compile the workspaces the archiver needs --------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY --from=manifests /out/ ./
# --ignore-scripts: the lockfile's one install script is orientjs-native's optional node-gyp build,
# which needs a compiler the slim image does not have; orientjs runs without it
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/ packages/
COPY images/log-archiver/ images/log-archiver/
# the root's workspace order (broker, cargo, archive, images) is the dependency order
RUN npm run build --workspace=packages/broker --workspace=packages/cargo --workspace=packages/archive \
      --workspace=images/log-archiver \
 && mkdir /runtime \
 && for ws in packages/broker packages/cargo packages/archive images/log-archiver; do \
      mkdir -p "/runtime/$ws" && cp -r "$ws/package.json" "$ws/dist" "/runtime/$ws/"; \
    done \
 && cp packages/cargo/healthcheck.js /runtime/packages/cargo/ \
 && find /runtime -name '*.d.ts' -delete

# --- prod-deps: the archiver's production dependencies only --------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev --workspace=@mupets/log-archiver --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -f node_modules/@mupets/testkit

# --- runtime ----------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mupets-log-archiver" \
      org.opencontainers.image.description="Mupets log-archiver: archives every message of the broker's logs and events channels in OrientDB" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Mupets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# V8 grows the heap lazily: without a limit the archiver sat at 220-250 MB RSS draining a backlog,
# with this one at about 150 MB and nearly the same throughput (bench:archive). Raise it with
# ARCHIVER_BATCH_BYTES x ARCHIVER_CONCURRENCY (a batch is held whole), by setting NODE_OPTIONS. With
# 8 MiB batches (the default) a backlog of 60 KB envelopes drains under this limit even with four
# consumers (images/log-archiver/test/large-envelopes.test.ts).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=192
WORKDIR /app
# root owns the application files; the service runs as `node` and cannot change them
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /runtime/ ./
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "packages/cargo/healthcheck.js"]
# exec form: SIGTERM reaches node, whose lifecycle stops intake, drains and closes within SHUTDOWN_DEADLINE_MS
CMD ["node", "--enable-source-maps", "images/log-archiver/dist/main.js"]
