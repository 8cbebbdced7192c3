# Bellhop's container image on Node 24 LTS: only production dependencies, and the TypeScript
# sources turned into plain JavaScript by Node's own type stripping (tools/build-js.ts; no
# TypeScript install needed), which starts faster and uses ~25 MiB less memory than stripping
# types at every start.
#
#   docker build -t bellhop .
#   docker build --build-arg BASE=node:24-alpine -t bellhop .          # another Node 24 base
#   npm ci --omit=dev --ignore-scripts && tar -cf node_modules.tar node_modules \
#     && docker build --build-arg DEPS=context -t bellhop .            # no registry access in the build
ARG BASE=node:24-bookworm-slim

# ---- stage 1: production dependencies ----
FROM ${BASE} AS deps
# npm: `npm ci` from the lock file (needs the npm registry during the build).
# context: unpack node_modules.tar from the build context (made beforehand, see above).
ARG DEPS=npm
WORKDIR /app
# node_modules.ta[r] matches nothing unless the tarball is there; COPY is fine with that.
COPY package.json package-lock.json node_modules.ta[r] ./
# set -e stops at the first failing command (not inside && lists, so none are used).
RUN set -e; \
    if [ "$DEPS" = context ]; then \
      [ -f node_modules.tar ] || { echo "DEPS=context needs node_modules.tar in the build context" >&2; exit 1; }; \
      tar -xf node_modules.tar; rm node_modules.tar; \
    elif [ "$DEPS" = npm ]; then \
      npm ci --omit=dev --ignore-scripts --no-audit --no-fund; rm -rf /root/.npm; \
    else \
      echo "DEPS must be npm or context, not $DEPS" >&2; exit 1; \
    fi; \
    node -e "for (const m of ['dockerode','undici','yaml','pino','prom-client','cookie','ipaddr.js','acme-client','bcryptjs']) require.resolve(m)"
COPY tools ./tools
COPY cmd ./cmd
COPY internal ./internal
COPY pkg ./pkg
RUN node --no-warnings tools/build-js.ts /app/dist-js

# ---- stage 2: runtime ----
FROM ${BASE}
# Non-root cannot bind ports below 1024: listen on 8080 and 8443 and publish them as 80 and 443
# (compose.example.yml). HTTPS is on only with an autocert block in config.yml (docs/https.md).
ENV NODE_ENV=production \
    BELLHOP_HTTP_ADDR=:8080 \
    BELLHOP_HTTPS_ADDR=:8443 \
    BELLHOP_API_ADDR=127.0.0.1:8081
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=deps /app/dist-js/ ./
# ./data holds the sticky-cookie key (sticky.secret_file) and ./data/certs the certificates and
# the ACME account key; mount a volume there to keep them.
RUN mkdir -p /app/data && chown node:node /app/data
# The `node` user (uid 1000) of the official Node images. It is not in the docker group: reach
# Docker through the socket proxy (compose.example.yml), not by mounting /var/run/docker.sock.
USER node
EXPOSE 8080 8443 8081
# No curl in slim images: Node itself asks the admin API. It follows BELLHOP_API_ADDR's port;
# if you move the admin API with api.listen in config.yml instead, override this HEALTHCHECK.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const a=process.env.BELLHOP_API_ADDR||'127.0.0.1:8081';fetch('http://127.0.0.1:'+a.slice(a.lastIndexOf(':')+1)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# A smaller young generation keeps RSS low under load at no measurable CPU cost. --liftoff-only:
# undici's llhttp parser (WebAssembly) stays on V8's baseline compiler; optimising it after the
# first few responses left ~10 MiB resident for good (idle 98 -> 90 MiB, README "Performance"),
# and parsing a response head is too small a part of a request for the difference to show.
# --no-maglev: hot functions go from the baseline tier straight to TurboFan; Maglev's compiles
# left ~10 MiB more resident after the first requests (2,000 requests then idle: 97.3 -> 87.2
# MiB; bench peak, small answers, 98-118 -> 91-101 MiB; idle 86.5 -> 84.1), for a CPU cost per
# request within the noise of the interleaved runs on a shared box (README "Performance").
CMD ["node", "--max-semi-space-size=4", "--liftoff-only", "--no-maglev", "cmd/bellhop/main.js"]
