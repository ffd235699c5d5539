# One image for the worker and the API (the compose file picks the entry point).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

# nektos/act for the workflow-run test stage, the pinned version src/ci-run/act-binary.ts expects.
FROM golang:1.22-bookworm AS act
RUN CGO_ENABLED=0 GOBIN=/out go install github.com/nektos/act@v0.2.89

FROM node:20-bookworm-slim
# bubblewrap: the sandbox of every repository command (verify commands, command health checks, act); util-linux has
# setpriv, which drops a root worker to SANDBOX_UID.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates bubblewrap util-linux && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
COPY --from=act /out/act ./.tools/bin/act
# DATA_DIR of the compose file: a named volume mounted here starts out with this owner, so `node` can write to it.
RUN mkdir -p /var/lib/wpa && chown node:node /var/lib/wpa
USER node
CMD ["node", "dist/src/api/main.js"]
