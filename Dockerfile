# syntax=docker/dockerfile:1
# bedrock-sse-proxy image: `docker build -t bedrock-sse-proxy .`
# Two stages: `build` compiles TypeScript with the dev dependencies; `runtime` holds
# only the production dependencies, dist/ and public/. test/docker.test.ts checks this
# file and replays the runtime stage without a Docker engine.

# One Node major for both stages: 24, the current LTS, as .nvmrc says; 22 is the floor
# (package.json engines): docker build --build-arg NODE_MAJOR=22 .
ARG NODE_MAJOR=24

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
# Lockfile first, so the dependency layer is reused until the lockfile changes.
# --ignore-scripts: the build only needs tsc, no package has to run install hooks.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY public ./public
RUN npm run build

FROM node:${NODE_MAJOR}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# Owned by root and read-only to the `node` user: the process cannot rewrite its code.
# dist/app.js serves ../public/ when DEMO_PAGE=true, hence public/ next to dist/.
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
# src/config.ts defaults HOST to 127.0.0.1, which a published port cannot reach.
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
USER node
# Slim images have no curl: node's own fetch. Assumes HOST covers loopback (0.0.0.0 does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# close-with-grace handles SIGTERM: /readyz 503 while requests are still served for
# SHUTDOWN_DELAY_MS (5000), then open streams get `error` shutting_down + `done`, and the
# process exits within SHUTDOWN_TIMEOUT_MS (default 10000, the delay included). `docker stop`
# waits only 10 s before SIGKILL: use `docker run --stop-timeout 15` (compose: stop_grace_period).
STOPSIGNAL SIGTERM
# Exec form, the same command as `npm start` without its `--env-file-if-exists=.env`: a
# container takes its settings from the real environment (compose's env_file, `docker run
# --env-file`), never from a file baked into the image. node is PID 1 and receives SIGTERM
# itself (npm would sit in between). Node spawns no children, so no zombies to reap; add
# `docker run --init` if that ever changes. --max-semi-space-size=8 caps V8's young
# generation: left to V8 on a large host it grows under load to two 64 MiB semi-spaces,
# about 100 MiB of RSS that open streams do not need (10,000 waiting streams: 571 MiB
# instead of 638). Interleaved runs at 1000 streams: 0 to 10 % fewer tokens/s, inside the
# runs' own spread (README
# "Performance", issue 10).
CMD ["node", "--max-semi-space-size=8", "dist/server.js"]
