// deploy/k8s as `kubectl apply -k` sees it: rendered by `kubectl kustomize`, every document
// validated against the Kubernetes (1.27) or KEDA (2.10) JSON schema of kubernetes-models, a
// kind without a schema here failing the test, and the parts that keep events safe asserted:
// probes on the ports the services listen on, shutdown time above their grace, the Services
// and the PDB on the collector pods, KEDA on the worker Deployment and on a queue the mounted
// pipeline file routes to.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type IScaledObject,
  ScaledObject,
} from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import {
  type ITriggerAuthentication,
  TriggerAuthentication,
} from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import {
  type IPodDisruptionBudget,
  PodDisruptionBudget,
} from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import { type IService, Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { parsePipeline, queuesOf } from "../packages/pipeline/src/index.js";
import { partitionKeys } from "../packages/queue/src/index.js";
import { METRICS } from "../packages/telemetry/src/metric-catalogue.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const K8S = join(ROOT, "deploy/k8s");
const KUBECTL = process.env.KUBECTL ?? "kubectl";

// The YAML parser the pipeline package already uses; the root has none of its own.
const yaml = createRequire(join(ROOT, "packages/pipeline/package.json"))("yaml") as {
  parseAllDocuments(text: string): Array<{ errors: readonly Error[]; toJS(): unknown }>;
};

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
}

/** Every kind deploy/k8s may render, with the schema that judges it. */
const SCHEMAS: Readonly<Record<string, (doc: unknown) => void>> = {
  "apps/v1/Deployment": (doc) => new Deployment(doc as never).validate(),
  "v1/Service": (doc) => new Service(doc as never).validate(),
  "v1/ConfigMap": (doc) => new ConfigMap(doc as never).validate(),
  "policy/v1/PodDisruptionBudget": (doc) => new PodDisruptionBudget(doc as never).validate(),
  "keda.sh/v1alpha1/ScaledObject": (doc) => new ScaledObject(doc as never).validate(),
  "keda.sh/v1alpha1/TriggerAuthentication": (doc) =>
    new TriggerAuthentication(doc as never).validate(),
};

function parseManifests(text: string, source: string): Manifest[] {
  return yaml.parseAllDocuments(text).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${source} #${index}: ${document.errors[0]}`);
    return document.toJS() as Manifest;
  });
}

let rendered: Manifest[] | undefined;
/** deploy/k8s rendered once; every test fails with the same clear message without kubectl. */
function manifests(): Manifest[] {
  if (rendered !== undefined) return rendered;
  const run = spawnSync(KUBECTL, ["kustomize", K8S], { encoding: "utf8", timeout: 60_000 });
  if (run.error !== undefined) {
    throw new Error(
      `cannot run ${KUBECTL} (${(run.error as NodeJS.ErrnoException).code}): install Debian's ` +
        "`kubernetes-client` package (apt-get install kubernetes-client), whose kubectl renders " +
        "kustomizations, or set KUBECTL to a kubectl binary",
    );
  }
  if (run.status !== 0) throw new Error(`kubectl kustomize deploy/k8s failed:\n${run.stderr}`);
  rendered = parseManifests(run.stdout, "kubectl kustomize deploy/k8s");
  return rendered;
}

function find<T>(kind: string, name: string): T {
  const found = manifests().filter((doc) => doc.kind === kind && doc.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0] as T;
}

const collector = () => find<IDeployment>("Deployment", "eventpipe-collector");
const worker = () => find<IDeployment>("Deployment", "eventpipe-worker");
/** A field the rendered manifests must have: its absence fails the test, by name. */
function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`deploy/k8s: no ${what}`);
  return value;
}
const podSpec = (deployment: IDeployment) => must(deployment.spec?.template.spec, "pod spec");
const podLabels = (deployment: IDeployment) =>
  must(deployment.spec?.template.metadata?.labels, "pod labels");
const containerOf = (deployment: IDeployment): IContainer => {
  expect(podSpec(deployment).containers).toHaveLength(1);
  return must(podSpec(deployment).containers[0], "container");
};
const env = (container: IContainer, name: string): string | undefined =>
  container.env?.find((variable) => variable.name === name)?.value;
/** The port of a `host:port` listen address. */
const listenPort = (container: IContainer, name: string) =>
  Number(env(container, name)?.split(":").pop());
/** A probe's or Service's port, by number or by the container port's name. */
function portNumber(container: IContainer, port: number | string | undefined): number {
  if (typeof port === "number") return port;
  const named = container.ports?.find((candidate) => candidate.name === port);
  return must(named, `container port ${port}`).containerPort;
}
const pipelineFile = (configMap: IConfigMap) =>
  must(configMap.data?.["pipeline.yaml"], "pipeline.yaml in the ConfigMap");
/** Whether a selector picks the pods of a Deployment. */
const selects = (selector: Record<string, string> | undefined, deployment: IDeployment) =>
  Object.entries(must(selector, "selector")).every(
    ([key, value]) => podLabels(deployment)[key] === value,
  );

describe("deploy/k8s", () => {
  it("renders, and every document passes its Kubernetes or KEDA schema", () => {
    const problems: string[] = [];
    for (const doc of manifests()) {
      const kind = `${doc.apiVersion}/${doc.kind}`;
      const validate = SCHEMAS[kind];
      if (validate === undefined) {
        problems.push(`${kind} ${doc.metadata.name}: no schema in this test; add its model`);
        continue;
      }
      try {
        validate(doc);
      } catch (error) {
        problems.push(`${kind} ${doc.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    // The generated ConfigMap's name ends in a hash of its contents.
    const names = manifests().map(
      (doc) => `${doc.kind}/${doc.metadata.name.replace(/^(eventpipe-pipeline)-[a-z0-9]+$/, "$1")}`,
    );
    expect(names.sort()).toEqual([
      "ConfigMap/eventpipe-pipeline",
      "Deployment/eventpipe-collector",
      "Deployment/eventpipe-worker",
      "PodDisruptionBudget/eventpipe-collector",
      "ScaledObject/eventpipe-worker",
      "Service/eventpipe-collector",
      "Service/eventpipe-collector-headless",
      "Service/eventpipe-worker-metrics",
      "TriggerAuthentication/eventpipe-redis",
    ]);
  });

  it("probes the collector where it listens: gRPC health for readiness, /healthz for liveness", () => {
    const container = containerOf(collector());
    const grpc = listenPort(container, "COLLECTOR_LISTEN");
    const http = listenPort(container, "COLLECTOR_HTTP_LISTEN");
    expect([grpc, http, listenPort(container, "METRICS_LISTEN")]).toEqual([50051, 8080, 9464]);
    // Readiness follows Redis (NOT_SERVING while it is away); liveness must not, or a Redis
    // outage would restart every collector.
    expect(container.readinessProbe?.grpc?.port).toBe(grpc);
    for (const probe of [container.livenessProbe, container.startupProbe]) {
      expect(probe?.httpGet?.path).toBe("/healthz");
      expect(portNumber(container, probe?.httpGet?.port)).toBe(http);
    }
  });

  it("probes a worker's liveness without Redis: GET /healthz on its metrics port", () => {
    const container = containerOf(worker());
    expect(listenPort(container, "METRICS_LISTEN")).toBe(9465);
    // /healthz on the metrics port answers without Redis; /metrics reads the queue gauges.
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(portNumber(container, container.livenessProbe?.httpGet?.port)).toBe(9465);
  });

  it("gives each service longer than its shutdown grace before SIGKILL", () => {
    for (const deployment of [collector(), worker()]) {
      const container = containerOf(deployment);
      const graceSeconds = Number(env(container, "SHUTDOWN_GRACE_MS")) / 1000;
      const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
      const preStopSeconds = preStop[0] === "sleep" ? Number(preStop[1]) : 0;
      expect(graceSeconds).toBeGreaterThan(0);
      expect(podSpec(deployment).terminationGracePeriodSeconds).toBeGreaterThan(
        preStopSeconds + graceSeconds,
      );
    }
  });

  it("runs both services as `node`, read-only, without privileges, with resources", () => {
    for (const deployment of [collector(), worker()]) {
      const pod = podSpec(deployment);
      const container = containerOf(deployment);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(pod.enableServiceLinks).toBe(false);
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(container.resources?.requests).toMatchObject({ cpu: expect.anything() });
      expect(container.resources?.limits).toMatchObject({ memory: expect.anything() });
      expect(container.env?.find((v) => v.name === "REDIS_URL")?.valueFrom?.secretKeyRef).toEqual({
        name: "eventpipe-redis",
        key: "REDIS_URL",
      });
    }
    expect(containerOf(collector()).image).toMatch(/^eventpipe\/collector:/);
    expect(containerOf(worker()).image).toMatch(/^eventpipe\/worker:/);
  });

  it("balances over ready collectors through the headless Service, and guards them with a PDB", () => {
    const headless = find<IService>("Service", "eventpipe-collector-headless");
    expect(headless.spec?.clusterIP).toBe("None");
    const container = containerOf(collector());
    for (const name of ["eventpipe-collector-headless", "eventpipe-collector"]) {
      const service = find<IService>("Service", name);
      expect(selects(service.spec?.selector, collector())).toBe(true);
      expect(selects(service.spec?.selector, worker())).toBe(false);
      for (const port of must(service.spec?.ports, `${name} ports`)) {
        expect(portNumber(container, port.targetPort)).toBe(port.port);
      }
    }
    expect(headless.spec?.ports?.map((port) => [port.name, port.port])).toEqual([
      ["grpc", 50051],
      ["http", 8080],
      ["metrics", 9464],
    ]);
    const metrics = find<IService>("Service", "eventpipe-worker-metrics");
    expect(selects(metrics.spec?.selector, worker())).toBe(true);
    expect(metrics.spec?.ports?.map((port) => port.port)).toEqual([9465]);

    const pdb = find<IPodDisruptionBudget>("PodDisruptionBudget", "eventpipe-collector");
    expect(selects(pdb.spec?.selector?.matchLabels, collector())).toBe(true);
    expect(selects(pdb.spec?.selector?.matchLabels, worker())).toBe(false);
    expect(pdb.spec?.maxUnavailable).toBeLessThan(must(collector().spec?.replicas, "replicas"));
  });

  it("mounts a valid pipeline file into both services", () => {
    const configMap = manifests().find((doc) => doc.kind === "ConfigMap") as IConfigMap;
    for (const deployment of [collector(), worker()]) {
      const path = env(containerOf(deployment), "EVENTPIPE_CONFIG")!;
      const mount = containerOf(deployment).volumeMounts?.find(
        (m) => m.mountPath === dirname(path),
      );
      const volume = podSpec(deployment).volumes?.find((v) => v.name === mount?.name);
      expect(volume?.configMap?.name).toBe(configMap.metadata?.name);
      expect(configMap.data).toHaveProperty([basename(path)]);
    }
    const pipeline = parsePipeline(pipelineFile(configMap), "/etc/eventpipe/pipeline.yaml", {});
    for (const processor of pipeline.processors) {
      if (processor.kind === "module")
        expect(configMap.data).toHaveProperty([basename(processor.module)]);
    }
  });

  it("scales the worker Deployment with KEDA on a queue of the pipeline file", () => {
    const scaled = find<IScaledObject>("ScaledObject", "eventpipe-worker");
    expect(scaled.spec.scaleTargetRef).toMatchObject({
      kind: "Deployment",
      name: "eventpipe-worker",
    });
    // A live worker also requeues dead workers' events: never scale to zero.
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount!);
    expect(worker().spec?.replicas).toBeUndefined();

    const configMap = manifests().find((doc) => doc.kind === "ConfigMap") as IConfigMap;
    const queues = queuesOf(parsePipeline(pipelineFile(configMap), "pipeline.yaml", {}));
    const [trigger] = scaled.spec.triggers;
    expect(trigger?.type).toBe("redis");
    expect(queues).toContain(trigger?.metadata.listName);
    expect(Number(trigger?.metadata.listLength)).toBeGreaterThan(0);

    // The credentials KEDA reads are keys of the Secret the services read, as documented.
    const auth = find<ITriggerAuthentication>(
      "TriggerAuthentication",
      must(trigger?.authenticationRef?.name, "authenticationRef"),
    );
    const documented = readFileSync(join(K8S, "redis-secret.env.example"), "utf8")
      .split("\n")
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split("=")[0]);
    for (const ref of must(auth.spec?.secretTargetRef, "secretTargetRef")) {
      expect(ref.name).toBe("eventpipe-redis");
      expect(documented).toContain(ref.key);
    }
    expect(documented).toContain("REDIS_URL");
  });

  it("keeps the Prometheus alternative valid, on the worker, and on a metric eventpipe exports", () => {
    const path = join(K8S, "optional/worker-scaledobject-prometheus.yaml");
    const [doc, ...rest] = parseManifests(readFileSync(path, "utf8"), path);
    expect(rest).toEqual([]);
    SCHEMAS["keda.sh/v1alpha1/ScaledObject"]!(doc);
    const scaled = doc as unknown as IScaledObject;
    expect(scaled.spec.scaleTargetRef.name).toBe(worker().metadata?.name);
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const [trigger] = scaled.spec.triggers;
    expect(trigger?.type).toBe("prometheus");
    const metric = "eventpipe_queue_oldest_pending_age_seconds";
    expect(trigger?.metadata.query).toContain(`max(${metric}`);
    expect(METRICS.map((spec) => spec.name)).toContain(metric);
  });

  it("keeps the Redis Cluster alternative valid: one trigger per partition's pending list", () => {
    const path = join(K8S, "optional/worker-scaledobject-cluster.yaml");
    const [doc, ...rest] = parseManifests(readFileSync(path, "utf8"), path);
    expect(rest).toEqual([]);
    SCHEMAS["keda.sh/v1alpha1/ScaledObject"]!(doc);
    const scaled = doc as unknown as IScaledObject;
    expect(scaled.spec.scaleTargetRef.name).toBe(worker().metadata?.name);
    const lists = scaled.spec.triggers.map((trigger) => {
      expect(trigger.type).toBe("redis-cluster");
      expect(trigger.authenticationRef?.name).toBe("eventpipe-redis");
      return trigger.metadata.listName;
    });
    expect(lists).toEqual(partitionKeys("event_queue", 6).map((keys) => keys.pending));
  });

  it("sets only variables the README documents for each service", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const documented = (service: string) =>
      readme
        .split("\n")
        .filter((line) => line.startsWith("| `") && line.split("|")[2]?.includes(service))
        .flatMap((line) =>
          [...(line.split("|")[1] ?? "").matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]),
        );
    for (const [deployment, service] of [
      [collector(), "collector"],
      [worker(), "worker"],
    ] as const) {
      const names = containerOf(deployment).env!.map((variable) => variable.name);
      expect(names.filter((name) => !documented(service).includes(name))).toEqual([]);
    }
  });
});
