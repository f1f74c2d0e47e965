# syntax=docker/dockerfile:1
# Kitsune container image: build with the dev toolchain, run with production dependencies only.
#   docker build -t kitsune .
#   docker run --rm -p 8000:8000 -e SECRET_KEY="$(openssl rand -base64 48)" \
#     -e DATABASE_URL=postgres://… -e REDIS_URL=redis://… kitsune
# docs/operations.md describes the configuration; compose.yaml runs a full stack.

# ---- build: compile TypeScript, then drop the dev dependencies ---------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app

# Dependencies first, so a source change does not reinstall them. The native modules
# (@node-rs/argon2, bcrypt) ship prebuilt binaries for linux x64/arm64 glibc: no compiler needed.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && chmod 0755 dist/cli/main.js

# ---- runtime: dist/, production node_modules, package.json; nothing else -----------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    KITSUNE_DATA_DIR=/app/data
WORKDIR /app

# Code stays owned by root (the service cannot rewrite itself); only the data directory, used by
# the embedded database when DATABASE_URL is unset, is writable by the service's user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data \
  && chown node:node /app/data \
  && ln -s /app/dist/cli/main.js /usr/local/bin/kitsune

USER node
EXPOSE 8000

# Liveness only: /health/ready also fails when PostgreSQL or Redis is down, and restarting the
# container would not fix that. Slim images have no curl, so Node's own fetch does the GET.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

CMD ["node", "dist/cli/main.js", "serve"]
