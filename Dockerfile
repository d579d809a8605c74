# Container image of the gateway (and of the Fluent simulator, for docker-compose): build with dev dependencies, run with production ones only.
# CI runs this file's build steps outside a container (scripts/dockerfile-steps.ts) and lints it (test/deploy/dockerfile.test.ts).

# One Node version for both stages; a full version tag, so a rebuild does not drift (pin a digest too where your registry allows).
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first: the dependency layer stays cached while only the sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Fluent's schema snapshot, read at run time by src/fluent/schema.ts from beside dist/.
COPY schema ./schema
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (graceful drain) and reaps zombies, whatever runs the container.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# The allocator setting of `npm start` (test/deploy/dockerfile.test.ts keeps the two equal): glibc's malloc sends
# blocks of 128 KB and more to mmap, at a fixed threshold. By default that threshold grows with every such block
# freed (up to 32 MB), and the memory of V8's compiler threads then stays in their arenas after each compile.
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
# Owned by root and read-only to the process: the app writes nothing beside itself.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schema ./schema
# The image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
# No curl in slim images: node itself asks /healthz on the port the gateway listens on.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# The V8 flags of `npm start` (package.json; test/deploy/dockerfile.test.ts keeps the two equal): a young generation of
# 8 MB semi-spaces instead of V8's default sized from the host's RAM (64 MB each on a 24 GB host), the old
# generation let grow 30% past what is live before it is collected, and no Maglev (V8's middle compiler tier, whose
# background compiles held memory; TurboFan still optimises the hot code). With the allocator setting above they hold
# the peak RSS under load near the idle size; bench/README.md has the figures with and without them (CPU per request
# and RSS, one run). NODE_OPTIONS cannot carry them: Node refuses --heap-growing-percent there.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=30", "--no-maglev", "dist/server.js"]
