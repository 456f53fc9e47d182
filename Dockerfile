# syntax=docker/dockerfile:1
#
# Kontrol: one image for both processes, chosen by the command:
#   API:    node --enable-source-maps dist/api/main.js      (the default CMD)
#   worker: node --enable-source-maps dist/workers/main.js
# The worker bundles the workflow code with webpack (from @temporalio/worker, a production
# dependency) when it starts, from dist/workflows/index.js, so dist/workflows must be in the image.
#
# Not built by the tests: the development machines have no Docker engine. See docker-compose.yml.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/ ----------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# @scarf/scarf (pulled in by swagger-ui) reports installs over the network; package.json's
# allowScripts already denies it, but the npm bundled with Node 20 does not read allowScripts.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: production dependencies and dist/ only ---------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SCARF_ANALYTICS=false \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Compiled code, including dist/workflows (the worker's webpack input). Owned by root: the app
# only reads it.
COPY --from=build /app/dist ./dist
# DATA_DIR (evidence files under /data/files). Owned by the unprivileged user, so a fresh named
# volume mounted here inherits that ownership.
RUN mkdir -p /data && chown node:node /data
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No HEALTHCHECK here: the worker has no HTTP port. docker-compose.yml checks the API's /healthz.
CMD ["node", "--enable-source-maps", "dist/api/main.js"]
