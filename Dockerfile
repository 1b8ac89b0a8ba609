# syntax=docker/dockerfile:1.7
# One Dockerfile, three images: `docker build --target translator|worker|starter -t greeter-<svc> .`
# Stages: manifests (lockfile + workspace package.json files) -> build (npm ci, tsc -b,
# workflow prebundle) and deps-<svc> (production dependencies of one workspace) ->
# runtime (non-root, no build tools) -> one final stage per service.
# Debian slim, not Alpine: Temporal's Rust core bridge ships glibc binaries.
# NODE_VERSION is kept equal to scripts/bootstrap.sh (a test checks it).
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-slim AS manifests
# Behind a TLS-intercepting proxy, give `npm ci` the proxy's CA without baking it into a layer:
#   --secret id=npm-ca,src=/path/to/ca.pem --build-arg NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca
# (empty by default, which Node ignores). Only the build stages see it; the runtime stage does not.
ARG NODE_EXTRA_CA_CERTS=""
ENV NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS}
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/shared/package.json services/shared/
COPY services/translator/package.json services/translator/
COPY services/worker/package.json services/worker/
COPY services/starter/package.json services/starter/

FROM manifests AS build
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY services/ services/
# Only the service projects: tests, scripts and their tsconfig are not in the context.
RUN npx tsc -b services/translator services/worker services/starter \
 && node services/worker/dist/src/build-workflow-bundle.js

FROM manifests AS deps-translator
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca npm ci --omit=dev --workspace=services/translator --no-audit --no-fund

FROM manifests AS deps-worker
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca npm ci --omit=dev --workspace=services/worker --no-audit --no-fund

FROM manifests AS deps-starter
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca npm ci --omit=dev --workspace=services/starter --no-audit --no-fund

FROM node:${NODE_VERSION}-slim AS runtime
# HOST: the services bind 127.0.0.1 by default; in a container they must listen on all interfaces.
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
# Numeric, so Kubernetes can verify runAsNonRoot without a passwd lookup.
USER 10001:10001

FROM runtime AS translator
COPY --from=deps-translator /app ./
COPY --from=build /app/services/shared/dist services/shared/dist
COPY --from=build /app/services/translator/dist services/translator/dist
EXPOSE 9999
# node is PID 1 and receives SIGTERM itself; the service drains and exits 0.
CMD ["node", "services/translator/dist/src/main.js"]

FROM runtime AS worker
COPY --from=deps-worker /app ./
COPY --from=build /app/services/shared/dist services/shared/dist
# dist includes workflow-bundle.js, so the worker starts without webpack.
COPY --from=build /app/services/worker/dist services/worker/dist
ENV WORKER_WORKFLOW_BUNDLE=/app/services/worker/dist/workflow-bundle.js
# 9465: /healthz, /readyz, prom-client /metrics; 9464: Temporal Core /metrics.
EXPOSE 9465 9464
CMD ["node", "services/worker/dist/src/main.js"]

FROM runtime AS starter
COPY --from=deps-starter /app ./
COPY --from=build /app/services/shared/dist services/shared/dist
COPY --from=build /app/services/starter/dist services/starter/dist
EXPOSE 8080
CMD ["node", "services/starter/dist/src/main.js"]
