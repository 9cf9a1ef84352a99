# cargo-template's dev image: Node and the workspace's dependencies, no sources. docker-compose.dev.yml
# bind-mounts the repository at /app (node_modules stays in a named volume) and the service runs from
# its TypeScript sources under `node --watch`, which restarts it when a file it loaded changes.
# Build context: the repository root.

ARG NODE_VERSION=24

# every workspace's package.json and the lockfile (COPY cannot keep the paths of a glob)
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents '{}' /out ';' \
 && cp package-lock.json /out/

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=development \
    TS_NODE_PROJECT=/app/tsconfig.json
WORKDIR /app
RUN chown node:node /app
USER node
COPY --from=manifests --chown=node:node /out/ ./
# the whole workspace, dev tools included (ts-node, tsconfig-paths); --ignore-scripts: no dependency
# needs its install script here
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && sha256sum package-lock.json | cut -d' ' -f1 >node_modules/.mupets-lock.sha256 \
 && npm cache clean --force
COPY scripts/dev-entrypoint.sh /usr/local/bin/mupets-dev-entrypoint
# <http>
EXPOSE 3000
# </http>
EXPOSE 8080 9229
# run through sh: works even where a checkout lost the file's executable bit
ENTRYPOINT ["/bin/sh", "/usr/local/bin/mupets-dev-entrypoint"]
# node --watch follows every file the process loaded, through ts-node (transpile only: types are
# checked by `npm run typecheck`) and tsconfig-paths (@mupets/* -> packages/*/src)
CMD ["node", "--watch", "-r", "ts-node/register/transpile-only", "-r", "tsconfig-paths/register", "images/cargo-template/src/main.ts"]
