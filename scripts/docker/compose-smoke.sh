#!/usr/bin/env bash
# The compose smoke: docker-compose.yml really run, as a user would run it.
#
#   start a Docker engine if none answers (Debian's docker.io), build the base images
#   (local stand-ins unless NODE_IMAGE and REDIS_IMAGE name others), build the three
#   service images from their Dockerfiles, `up -d`, wait for health, produce 20,000 events,
#   `up -d --scale worker=3`, produce 20,000 more, then `stats --json` must show all 40,000
#   processed, none pending, in flight or dead-lettered, and 3 live workers; then the
#   `metrics` profile's Prometheus (alone: Grafana has no stand-in) must find the collector
#   and the 3 workers by DNS and count the same 40,000; then `down -v`.
#
# Run as root (CI does): `bash scripts/docker/compose-smoke.sh`. Its own compose project
# (eventpipe-smoke), image tag (smoke) and loopback-only ports, so it touches nothing else.
# Env: SMOKE_COUNT (events per producer run, 20000), SMOKE_WORKERS (3), SMOKE_METRICS (1:
# start Prometheus and check what it scraped; 0 skips), NODE_IMAGE / REDIS_IMAGE /
# PROMETHEUS_IMAGE (default: the stand-ins of build-local-images.sh), KEEP_DOCKERD=1 (leave
# an engine this script started running), DOCKERD_FLAGS (extra dockerd flags), COMPOSE
# ("docker compose" or "docker-compose"; default: whichever works).
# shellcheck disable=SC2016 # JavaScript with template literals in single quotes, on purpose
set -euo pipefail
cd "$(dirname "$0")/../.."

PROJECT=${SMOKE_PROJECT:-eventpipe-smoke}
COUNT=${SMOKE_COUNT:-20000}
WORKERS=${SMOKE_WORKERS:-3}
CHECK_METRICS=${SMOKE_METRICS:-1}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/eventpipe-dockerd.log}
STARTED=$SECONDS
DOCKERD_PID=""

step() { printf '\n==> [compose-smoke %4ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
fail() {
  printf '[compose-smoke] FAILED: %s\n' "$*" >&2
  exit 1
}

# --- tools -----------------------------------------------------------------------------
step "tools: dockerd, docker, compose"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker >/dev/null || missing+=(docker.io)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  missing+=(docker-compose)
fi
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || fail "missing ${missing[*]}: install them (apt-get) or run as root"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -n "${COMPOSE:-}" ]; then
  read -r -a compose_cmd <<<"$COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  compose_cmd=(docker compose)
else
  compose_cmd=(docker-compose)
fi
echo "docker client $(docker version --format '{{.Client.Version}}' 2>/dev/null || echo '?')," \
  "compose: ${compose_cmd[*]} ($("${compose_cmd[@]}" version --short 2>/dev/null || echo '?'))"

# --- engine ----------------------------------------------------------------------------
step "Docker engine"
if docker info >/dev/null 2>&1; then
  echo "an engine already answers: using it"
else
  [ "$(id -u)" -eq 0 ] || fail "no Docker engine answers, and starting one needs root"
  echo "starting dockerd${DOCKERD_FLAGS:+ $DOCKERD_FLAGS} (log: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  # shellcheck disable=SC2086 # DOCKERD_FLAGS is a list of flags on purpose
  setsid dockerd ${DOCKERD_FLAGS:-} >"$DOCKERD_LOG" 2>&1 </dev/null &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -30 "$DOCKERD_LOG" >&2 || true
    fail "dockerd did not come up within 60 s (log above; try DOCKERD_FLAGS='--iptables=false' or '--storage-driver=vfs')"
  fi
fi
docker info --format 'engine {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupVersion}}'

# --- compose, isolated ---------------------------------------------------------------------
export COMPOSE_PROJECT_NAME=$PROJECT
export EVENTPIPE_TAG=${EVENTPIPE_TAG:-smoke}
# Loopback only, on ports Docker picks: the smoke never takes 50051/8080 from anyone.
export COLLECTOR_PORT=127.0.0.1: COLLECTOR_HTTP_PORT=127.0.0.1:
export COMPOSE_INTERACTIVE_NO_CLI=1 COMPOSE_HTTP_TIMEOUT=${COMPOSE_HTTP_TIMEOUT:-300}
compose() { "${compose_cmd[@]}" -f docker-compose.yml "$@"; }

finish() {
  local status=$?
  set +e
  if [ "$status" -ne 0 ]; then
    printf '\n==> [compose-smoke] failed: containers and the last log lines\n' >&2
    compose --profile metrics ps >&2
    compose --profile metrics logs --no-color --tail=60 >&2
  fi
  if docker info >/dev/null 2>&1; then
    compose --profile tools --profile metrics down -v --remove-orphans --timeout 20 >/dev/null 2>&1
  fi
  if [ -n "$DOCKERD_PID" ] && [ "${KEEP_DOCKERD:-0}" != 1 ]; then
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
  fi
  if [ "$status" -eq 0 ]; then
    printf '\ncompose smoke: passed in %ds\n' "$((SECONDS - STARTED))"
  else
    printf '\ncompose smoke: FAILED after %ds\n' "$((SECONDS - STARTED))" >&2
  fi
  exit "$status"
}
trap finish EXIT

# Leftovers of an interrupted run (its Redis volume would skew the counts).
compose --profile tools --profile metrics down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true

# --- images ----------------------------------------------------------------------------
step "base images"
if [ -z "${NODE_IMAGE:-}" ] || [ -z "${REDIS_IMAGE:-}" ]; then
  bash scripts/docker/build-local-images.sh
  export NODE_IMAGE=${NODE_IMAGE:-eventpipe-local/node:20-bookworm}
  export REDIS_IMAGE=${REDIS_IMAGE:-eventpipe-local/redis:7-bookworm}
  export PROMETHEUS_IMAGE=${PROMETHEUS_IMAGE:-eventpipe-local/prometheus:2-bookworm}
fi
echo "NODE_IMAGE=$NODE_IMAGE REDIS_IMAGE=$REDIS_IMAGE PROMETHEUS_IMAGE=${PROMETHEUS_IMAGE:-prom/prometheus (compose default)}"

step "build collector, worker, producer from their Dockerfiles"
build_log=$(mktemp /tmp/eventpipe-smoke-build.XXXXXX)
if ! timeout 3000 "${compose_cmd[@]}" -f docker-compose.yml --profile tools build \
  collector worker producer >"$build_log" 2>&1; then
  tail -60 "$build_log" >&2
  fail "image build failed (full log: $build_log)"
fi
grep -E '^(Step [0-9]+/[0-9]+ : RUN|Successfully tagged|#[0-9]+ (DONE|CACHED))' "$build_log" |
  tail -12 || true
rm -f "$build_log"

# --- run ---------------------------------------------------------------------------------
step "up -d (redis, collector, one worker)"
timeout 300 "${compose_cmd[@]}" -f docker-compose.yml up -d

step "wait for health"
for service in redis collector; do
  id=$(compose ps -q "$service")
  [ -n "$id" ] || fail "no $service container"
  status=""
  for _ in $(seq 1 120); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$id")
    [ "$status" = healthy ] && break
    sleep 1
  done
  [ "$status" = healthy ] || fail "$service is $status after 120 s"
  echo "$service: healthy"
done
http=$(compose port collector 8080 | tail -1)
case "$http" in 127.0.0.1:*) ;; *) fail "the collector's HTTP port is published on '$http', not on 127.0.0.1" ;; esac
if command -v curl >/dev/null; then
  echo "GET http://$http/readyz: $(curl -fsS --max-time 5 "http://$http/readyz")"
fi

produce() {
  timeout 300 "${compose_cmd[@]}" -f docker-compose.yml run --rm producer --count "$COUNT" \
    </dev/null || fail "the producer did not store all $COUNT events"
}

step "producer: $COUNT events"
produce

step "scale to $WORKERS workers"
timeout 300 "${compose_cmd[@]}" -f docker-compose.yml up -d --scale "worker=$WORKERS"

step "producer: $COUNT more events"
produce

TOTAL=$((COUNT * 2))
# Prints "ok" when a stats --json line shows every event processed by $WORKERS live workers,
# else what is missing.
verdict() {
  node -e '
    const [total, workers] = process.argv.slice(1).map(Number);
    const line = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.startsWith("{")).pop();
    if (!line) { console.log("no stats line"); process.exit(); }
    const s = JSON.parse(line);
    const ok = s.processed === total && s.pending === 0 && s.inFlight === 0 &&
      s.deadLettered === 0 && s.retriesWaiting === 0 && s.workers.length === workers;
    console.log(ok ? "ok" : `processed ${s.processed}/${total}, pending ${s.pending}, in flight ${s.inFlight}, dead letters ${s.deadLettered}, retries waiting ${s.retriesWaiting}, live workers ${s.workers.length}/${workers}`);
  ' "$TOTAL" "$WORKERS"
}

step "wait until all $TOTAL events are processed"
state=""
for _ in $(seq 1 180); do
  state=$(compose exec -T worker node dist/stats-cli.js --json 2>/dev/null | verdict || true)
  [ "$state" = ok ] && break
  sleep 1
done
[ "$state" = ok ] || fail "after 180 s: $state"

step "stats --json (docker compose run --rm worker node dist/stats-cli.js --json)"
stats=$(timeout 120 "${compose_cmd[@]}" -f docker-compose.yml run --rm worker \
  node dist/stats-cli.js --json </dev/null)
printf '%s\n' "$stats" | grep '^{'
state=$(printf '%s\n' "$stats" | verdict)
[ "$state" = ok ] || fail "stats: $state"
echo "all $TOTAL events processed, 0 pending, $WORKERS live workers"

if [ "$CHECK_METRICS" = 1 ]; then
  step "metrics profile: Prometheus scrapes the collector and every worker replica"
  # The profile's own Prometheus service and deploy/prometheus/prometheus.yml: it must find
  # the collector and all $WORKERS workers through Docker's DNS and see every event counted.
  # --no-deps: `up` of its dependencies would set the worker count back to one.
  PROMETHEUS_PORT=127.0.0.1: timeout 120 "${compose_cmd[@]}" -f docker-compose.yml \
    --profile metrics up -d --no-deps prometheus
  query='
    const [total, workers] = process.argv.slice(1).map(Number);
    const api = async (path) => {
      const response = await fetch(`http://prometheus:9090/api/v1/${path}`, { signal: AbortSignal.timeout(5000) });
      return (await response.json()).data;
    };
    const value = async (expr) => Number((await api(`query?query=${encodeURIComponent(expr)}`)).result[0]?.value[1] ?? NaN);
    const targets = (await api("targets")).activeTargets;
    const up = (job) => targets.filter((t) => t.labels.job === job && t.health === "up").length;
    const seen = {
      collectorTargets: up("eventpipe-collector"),
      workerTargets: up("eventpipe-worker"),
      accepted: await value("sum(eventpipe_collector_events_accepted_total)"),
      processed: await value("sum(eventpipe_worker_events_processed_total)"),
      pending: await value("max(eventpipe_queue_pending)"),
      liveWorkers: await value("max(eventpipe_queue_live_workers)"),
    };
    const ok = seen.collectorTargets === 1 && seen.workerTargets === workers &&
      seen.accepted === total && seen.processed === total && seen.pending === 0 &&
      seen.liveWorkers === workers;
    console.log(ok ? "ok" : JSON.stringify(seen));
  '
  seen=""
  for _ in $(seq 1 12); do
    seen=$(timeout 60 "${compose_cmd[@]}" -f docker-compose.yml run --rm --no-deps worker \
      node --input-type=module -e "$query" "$TOTAL" "$WORKERS" </dev/null 2>/dev/null |
      tail -1 || true)
    [ "$seen" = ok ] && break
    sleep 5
  done
  [ "$seen" = ok ] || fail "Prometheus does not see it all after a minute: $seen"
  echo "Prometheus: 1 collector and $WORKERS worker targets up; accepted $TOTAL, processed $TOTAL, 0 pending, $WORKERS live workers"
fi

step "down -v"
timeout 120 "${compose_cmd[@]}" -f docker-compose.yml --profile tools --profile metrics \
  down -v --remove-orphans
# The classic builder keeps each build stage as an untagged image: they are the cache that
# makes the next run fast, so only those of ours (built on the stand-in Node image, which
# carries this label) older than three days go.
docker image prune -f --filter "label=eventpipe.node-version" --filter "until=72h" >/dev/null || true
