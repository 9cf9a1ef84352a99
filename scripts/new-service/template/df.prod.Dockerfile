# cargo-template's production image: self-contained, no dev tooling, runs as `node`.
# The same image serves staging and production; everything else comes from the environment
# (secrets as *_FILE). Build context: the repository root.
#
#   docker build -f images/cargo-template/df.prod.Dockerfile \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" -t mupets/cargo-template:0.1.0 .

ARG NODE_VERSION=24

# --- manifests: every workspace's package.json, and the lockfile --------------------------------
# npm ci needs all workspaces the lockfile names; COPY cannot keep the paths of a glob, so they are
# gathered here. Its output (and so the npm ci layers below) changes only with a package.json or the lockfile.
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents '{}' /out ';' \
 && cp package-lock.json /out/

# --- build: all dependencies, compile the workspaces the service needs ----------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/ packages/
COPY images/cargo-template/ images/cargo-template/
# in dependency order: broker, cargo, the service
RUN npm run build --workspace=packages/broker --workspace=packages/cargo --workspace=images/cargo-template \
 && mkdir /runtime \
 && for ws in packages/broker packages/cargo images/cargo-template; do \
      mkdir -p "/runtime/$ws" && cp -r "$ws/package.json" "$ws/dist" "/runtime/$ws/"; \
    done \
 && cp packages/cargo/healthcheck.js /runtime/packages/cargo/ \
 && find /runtime -name '*.d.ts' -delete

# --- prod-deps: the service's production dependencies only ---------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev --workspace=@mupets/cargo-template --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -f node_modules/@mupets/testkit

# --- runtime ----------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mupets-cargo-template" \
      org.opencontainers.image.description="Mupets cargo service cargo-template" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Mupets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
ENV NODE_ENV=production
WORKDIR /app
# root owns the application files; the service runs as `node` and cannot change them
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /runtime/ ./
USER node
# <http>
EXPOSE 3000
# </http>
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "packages/cargo/healthcheck.js"]
# exec form: SIGTERM reaches node, whose lifecycle stops intake, drains and closes within SHUTDOWN_DEADLINE_MS
CMD ["node", "--enable-source-maps", "images/cargo-template/dist/main.js"]
