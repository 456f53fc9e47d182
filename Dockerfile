# syntax=docker/dockerfile:1
#
# Kontrol: one image for both processes, chosen by the command:
#   API:    node --enable-source-maps dist/api/main.js      (the default CMD)
#   worker: node --max-old-space-size=256 --max-semi-space-size=2 --enable-source-maps dist/workers/main.js
# `npm run build` compiles to dist/ and also bundles the workflow code into dist/workflow-bundle.js,
# which the worker loads as it is; a dist/ without that bundle still works, the worker then bundles
# dist/workflows with webpack (from @temporalio/worker, a production dependency) at every start.
# The image copies the whole of dist/, so it follows whatever the build puts there.
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
# Compiled code, the workflow bundle and the templates, as `npm run build` left them. Owned by
# root: the app only reads it.
COPY --from=build /app/dist ./dist
# DATA_DIR (evidence files under /data/files). Owned by the unprivileged user, so a fresh named
# volume mounted here inherits that ownership.
RUN mkdir -p /data && chown node:node /data
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No HEALTHCHECK here: the worker has no HTTP port. docker-compose.yml checks the API's /healthz.
CMD ["node", "--enable-source-maps", "dist/api/main.js"]
