#!/usr/bin/env bash
# Builds local stand-ins for the official base images, for machines that reach Debian's
# packages and the npm registry but no image registry (node:20.19-bookworm-slim and
# redis:7.2-alpine cannot be pulled there):
#
#   eventpipe-local/debian:bookworm-minbase   debootstrap --variant=minbase bookworm, imported
#   eventpipe-local/node:20-bookworm          + this machine's Node binary and npm, the system CA
#                                             bundle (NODE_EXTRA_CA_CERTS), a `node` user (1000)
#   eventpipe-local/redis:7-bookworm          + Debian's redis-server, protected mode off as in
#                                             the official image
#   eventpipe-local/prometheus:2-bookworm     + Debian's prometheus, laid out as prom/prometheus
#                                             (for the `metrics` profile; Grafana has no
#                                             Debian package, so it has no stand-in)
#
# They are never tagged with an official name, so nothing mistakes them for the real images.
# Idempotent and cached: an image that exists is kept (the Node image is rebuilt only when
# this machine's Node version changes); FORCE=1 rebuilds them all.
#
#   scripts/docker/build-local-images.sh        # then:
#   NODE_IMAGE=eventpipe-local/node:20-bookworm REDIS_IMAGE=eventpipe-local/redis:7-bookworm \
#     docker compose build
#
# Needs: root, a running Docker engine, debootstrap (installed with apt-get when missing).
# Env: LOCAL_IMAGE_PREFIX (default eventpipe-local), DEBIAN_MIRROR (default: the mirror apt
# uses here), DOCKER_BUILD_NETWORK (default host: apt and npm in a build reach out the way
# the host does, with no NAT needed).
set -euo pipefail

PREFIX=${LOCAL_IMAGE_PREFIX:-eventpipe-local}
BASE_IMAGE="${PREFIX}/debian:bookworm-minbase"
NODE_IMAGE="${PREFIX}/node:20-bookworm"
REDIS_IMAGE="${PREFIX}/redis:7-bookworm"
PROMETHEUS_IMAGE="${PREFIX}/prometheus:2-bookworm"
BUILD_NETWORK=${DOCKER_BUILD_NETWORK:-host}
FORCE=${FORCE:-0}

say() { printf '[local-images] %s\n' "$*"; }
die() {
  printf '[local-images] error: %s\n' "$*" >&2
  exit 1
}
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
# docker build with its output kept in a log that is shown only when the build fails.
build_image() {
  local tag=$1 context=$2
  if ! docker build --network "$BUILD_NETWORK" -t "$tag" "$context" >"$context.log" 2>&1; then
    tail -40 "$context.log" >&2
    rm -f "$context.log"
    die "docker build of $tag failed"
  fi
  rm -f "$context.log"
}
image_label() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

# The first bookworm mirror that apt itself uses (deb822 .sources or one-line .list files).
apt_mirror() {
  local uri
  uri=$(
    awk '
      /^URIs:/ { uri = $2 }
      /^Suites:/ && / bookworm( |$)/ && uri != "" { print uri; exit }
      /^deb / && $3 == "bookworm" { print $2; exit }
    ' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
      2>/dev/null
  )
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and docker import need it)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd first)"

# --- 1. Base rootfs ----------------------------------------------------------------------
if [ "$FORCE" != 1 ] && image_exists "$BASE_IMAGE"; then
  say "$BASE_IMAGE: exists, kept"
else
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
      >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
  fi
  mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
  rootfs=$(mktemp -d /var/tmp/eventpipe-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  say "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -20 "$rootfs.log" >&2
    die "debootstrap failed (full log: $rootfs.log)"
  }
  rm -f "$rootfs.log"
  # Smaller image, and no package lists that go stale: images that need apt run update.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  say "importing $BASE_IMAGE"
  tar -C "$rootfs" --numeric-owner -c . |
    docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi

# --- 2. Node ------------------------------------------------------------------------------
node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" --version)
npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
[ -f "$npm_dir/bin/npm-cli.js" ] || die "cannot find npm's folder (looked in $npm_dir)"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca_bundle" ] || die "no system CA bundle at $ca_bundle"

if [ "$FORCE" != 1 ] && [ "$(image_label "$NODE_IMAGE" eventpipe.node-version)" = "$node_version" ]; then
  say "$NODE_IMAGE: exists with Node $node_version, kept"
else
  context=$(mktemp -d /var/tmp/eventpipe-node-image.XXXXXX)
  trap 'rm -rf "$context"' EXIT
  cp "$node_bin" "$context/node"
  cp -a "$npm_dir" "$context/npm"
  cp "$ca_bundle" "$context/ca-certificates.crt"
  cat >"$context/Dockerfile" <<DOCKERFILE
FROM ${BASE_IMAGE}
LABEL eventpipe.node-version="${node_version}" \\
      org.opencontainers.image.description="eventpipe local stand-in for node:20-bookworm-slim"
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
# The layout and user of the official image: npm and npx on PATH, global packages under
# /usr/local, and a node user (uid 1000) for USER node.
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && echo 'node:x:1000:' >>/etc/group \\
 && echo 'node:x:1000:1000::/home/node:/bin/bash' >>/etc/passwd \\
 && mkdir -p /home/node && chown 1000:1000 /home/node \\
 && node --version && npm --version
ENV NODE_VERSION=${node_version#v} \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \\
    NPM_CONFIG_UPDATE_NOTIFIER=false \\
    NPM_CONFIG_FUND=false
CMD ["node"]
DOCKERFILE
  say "building $NODE_IMAGE (Node $node_version from $node_bin, npm from $npm_dir)"
  build_image "$NODE_IMAGE" "$context"
  rm -rf "$context"
  trap - EXIT
fi

# --- 3. Redis -----------------------------------------------------------------------------
if [ "$FORCE" != 1 ] && image_exists "$REDIS_IMAGE"; then
  say "$REDIS_IMAGE: exists, kept"
else
  context=$(mktemp -d /var/tmp/eventpipe-redis-image.XXXXXX)
  trap 'rm -rf "$context"' EXIT
  # The official image compiles protected mode off, so `redis-server ...` under `sh -c` (as
  # docker-compose.yml runs it) accepts other containers without a password. Debian's binary
  # has it on: this wrapper, first on PATH, turns it off; a later --protected-mode still wins.
  cat >"$context/redis-server" <<'WRAPPER'
#!/bin/sh
# eventpipe stand-in: Debian's redis-server with protected mode off, as the official image.
case "${1:-}" in
  "" | --*) exec /usr/bin/redis-server --protected-mode no "$@" ;;
  *) config=$1; shift; exec /usr/bin/redis-server "$config" --protected-mode no "$@" ;;
esac
WRAPPER
  chmod 0755 "$context/redis-server"
  cat >"$context/Dockerfile" <<DOCKERFILE
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.description="eventpipe local stand-in for redis:7.2-alpine"
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \\
 && mkdir -p /data && chown redis:redis /data
COPY redis-server /usr/local/bin/redis-server
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
DOCKERFILE
  say "building $REDIS_IMAGE (Debian's redis-server)"
  build_image "$REDIS_IMAGE" "$context"
  rm -rf "$context"
  trap - EXIT
fi

# --- 4. Prometheus (for the smoke's look at the `metrics` profile) -------------------------
if [ "$FORCE" != 1 ] && image_exists "$PROMETHEUS_IMAGE"; then
  say "$PROMETHEUS_IMAGE: exists, kept"
else
  context=$(mktemp -d /var/tmp/eventpipe-prometheus-image.XXXXXX)
  trap 'rm -rf "$context"' EXIT
  # As the official image: the binary is the entrypoint (compose's `command:` gives the
  # flags), it runs as nobody, and keeps its data in /prometheus.
  cat >"$context/Dockerfile" <<DOCKERFILE
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.description="eventpipe local stand-in for prom/prometheus"
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \\
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus
WORKDIR /prometheus
USER nobody
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
DOCKERFILE
  say "building $PROMETHEUS_IMAGE (Debian's prometheus)"
  build_image "$PROMETHEUS_IMAGE" "$context"
  rm -rf "$context"
  trap - EXIT
fi

say "ready: NODE_IMAGE=$NODE_IMAGE REDIS_IMAGE=$REDIS_IMAGE PROMETHEUS_IMAGE=$PROMETHEUS_IMAGE"
