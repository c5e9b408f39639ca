# The instance as a container image: `docker compose up` (see docker-compose.yml) or
# `docker build -t amap-hub . && docker run -p 3000:3000 -v amap-data:/data amap-hub`.
FROM node:24-slim

WORKDIR /app
ENV NODE_ENV=production

# This image's own Node is already 24, so neither the `node` dev dependency (which pins Node 24 on
# machines whose system Node is older) nor the test tools are needed: production dependencies only.
# TypeScript runs as-is (Node's type stripping): there is no build step.
# `npm install` (which also follows package-lock.json) is the fallback for when `npm ci` refuses the
# lock file: it lacks an optional, Windows-only dependency of a test tool that some registries lack.
COPY package.json package-lock.json ./
RUN (npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund) && npm cache clean --force

COPY server ./server
COPY migrations ./migrations
COPY web ./web

# Everything the instance writes lives under /data: the embedded database (when DATABASE_URL is
# unset), the mail outbox (when SMTP_URL is unset) and uploaded files. Mount a volume there.
RUN mkdir -p /data && chown node:node /data
USER node
ENV HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 3000

# A worker-only container (PROCESS_ROLE=worker) does not listen: disable this check for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"

# SIGTERM lets requests and jobs in flight finish (see docs/operations.md).
STOPSIGNAL SIGTERM
# The same V8 flags as `npm start`: a small young generation and an earlier full collection keep
# the sending process under 300 MB (measured in docs/performance.md, Newsletters).
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "server/main.ts"]
