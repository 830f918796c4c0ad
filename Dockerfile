# spanlens container image: OTLP/gRPC 4317, OTLP/HTTP 4318, API (/healthz, /readyz, /api/*) 4320, data in /data.
#
#   docker build -t spanlens .
#   docker run --rm -p 4317:4317 -p 4318:4318 -p 4320:4320 -v spanlens-data:/data spanlens
#
# scripts/docker-steps-by-hand.sh replays these steps without a Docker engine; keep the two in step.

# ---- builder: compile TypeScript and the native better-sqlite3 module, then drop dev dependencies ----
FROM node:20-bookworm-slim AS builder

# better-sqlite3 downloads a prebuilt binary when it can; without one (no network to its release host,
# a platform it has none for) it compiles from source with node-gyp, which needs these.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# node-gyp takes the Node headers shipped in the image instead of downloading them.
ENV npm_config_nodedir=/usr/local

# Manifests first: this layer (and the slow npm ci) is reused until the dependencies change.
COPY package.json package-lock.json ./
RUN npm ci

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY proto ./proto
RUN npm run build

# Only runtime dependencies go into the final image (the compiled native module stays).
RUN npm prune --omit=dev

# ---- runtime: the same base (the native module was built against its glibc), no compilers ----
FROM node:20-bookworm-slim AS runtime

ENV NODE_ENV=production
WORKDIR /app

# Owned by root and read-only for the daemon: only /data is writable.
COPY --from=builder /app/node_modules ./node_modules
COPY --from=builder /app/dist ./dist
COPY --from=builder /app/proto ./proto
COPY --from=builder /app/package.json ./package.json
COPY config ./config

# Inside a container the listeners must not be loopback-only, or nothing outside the container
# (another container, a port mapping, kubelet probes) could reach them. Same shape as config/sidecar.yaml;
# flags (docker run IMAGE serve --api ...) and SPANLENS_CONFIG still override. Off loopback every listener
# needs a token, or the daemon refuses to start: -e SPANLENS_INGEST_TOKEN=... -e SPANLENS_READ_TOKEN=...
# (or a config file with auth.tokens; SPANLENS_ALLOW_UNAUTHENTICATED=true to run open on purpose).
ENV SPANLENS_OTLP_GRPC=0.0.0.0:4317 \
    SPANLENS_OTLP_HTTP=0.0.0.0:4318 \
    SPANLENS_API=0.0.0.0:4320 \
    SPANLENS_DATA=/data

# The official image's non-root "node" user is uid/gid 1000; given by number so that Kubernetes'
# runAsNonRoot can verify it without a runAsUser.
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME /data

EXPOSE 4317 4318 4320

# No curl in slim images: node's own fetch. The port follows SPANLENS_API (a --api flag is not seen here).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.SPANLENS_API||'').split(':').pop()||'4320';fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# The daemon drains in-flight exports and closes SQLite cleanly on SIGTERM (exit 0). As PID 1 it handles
# the signal itself; `docker run --init` adds zombie reaping if wanted.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
