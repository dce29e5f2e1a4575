// The `proxy.grpc` routes: every method whose full name starts with one of a route's service
// prefixes goes to its upstream. A prefix that would take one of eventpipe's own services is
// refused here, with its line.
import type { Node } from "yaml";
import type { NodeReader } from "./node-reader.js";
import type { GrpcProxyRoute } from "./proxy-types.js";

const GRPC_ROUTE_KEYS = ["services", "upstream", "tls"] as const;
const HOST_PORT = /^(\[[^\]]+\]|[^:\s/]+):(\d{1,5})$/;
const SERVICE_PREFIX = /^[A-Za-z0-9_.]+\/?[A-Za-z0-9_]*$/;

/** The collector's own gRPC services; no proxy service prefix may take one of their methods. */
export const RESERVED_GRPC_SERVICES: readonly string[] = Object.freeze([
  "event.EventService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** Whether a full-method-name prefix takes any method of `service` ("package.Service"). */
export function capturesService(prefix: string, service: string): boolean {
  const methods = `${service}/`;
  return methods.startsWith(prefix) || prefix.startsWith(methods);
}

export function readGrpcRoutes(reader: NodeReader, node: Node): readonly GrpcProxyRoute[] {
  const routes: GrpcProxyRoute[] = [];
  const serviceLines = new Map<string, number>();
  const items = reader.list(
    node,
    "proxy grpc",
    '[{ services: ["acme.master.v1."], upstream: "master-api:50051" }]',
    { allowEmpty: true },
  );
  for (const item of items ?? []) {
    const route = readGrpcRoute(reader, item, serviceLines);
    if (route !== undefined) routes.push(route);
  }
  return Object.freeze(routes);
}

function readGrpcRoute(
  reader: NodeReader,
  item: Node,
  serviceLines: Map<string, number>,
): GrpcProxyRoute | undefined {
  const fields = reader.mapping(item, "a proxy grpc route", GRPC_ROUTE_KEYS);
  if (fields === undefined) return undefined;
  const before = reader.problemCount;

  const servicesNode = reader.required(fields, "services", item, "a proxy grpc route");
  const services = servicesNode && readServices(reader, servicesNode, serviceLines);

  const upstreamNode = reader.required(fields, "upstream", item, "a proxy grpc route");
  const upstream = upstreamNode && readHostPort(reader, upstreamNode);

  const tlsNode = fields.get("tls")?.value;
  const tls = tlsNode ? reader.boolean(tlsNode, "tls") : false;

  if (
    reader.problemCount > before ||
    services === undefined ||
    upstream === undefined ||
    tls === undefined
  ) {
    return undefined;
  }
  return Object.freeze({ services, upstream, tls });
}

function readServices(
  reader: NodeReader,
  node: Node,
  serviceLines: Map<string, number>,
): readonly string[] | undefined {
  const items = reader.list(node, "services", '["acme.master.v1."]');
  if (items === undefined) return undefined;
  const services: string[] = [];
  for (const item of items) {
    const prefix = reader.nonEmptyString(item, "a service prefix");
    if (prefix === undefined) continue;
    if (!SERVICE_PREFIX.test(prefix)) {
      reader.report(
        item,
        `service prefix "${prefix}" must be the start of a full method name such as acme.master.v1. or acme.master.v1.Users/Get (no leading "/")`,
      );
      continue;
    }
    const own = RESERVED_GRPC_SERVICES.find((service) => capturesService(prefix, service));
    if (own !== undefined) {
      reader.report(
        item,
        `service prefix "${prefix}" would take the methods of eventpipe's own service ${own}; name the master API's package, e.g. acme.master.v1.`,
      );
      continue;
    }
    const line = serviceLines.get(prefix);
    if (line !== undefined) {
      reader.report(item, `service prefix "${prefix}" is already listed on line ${line}`);
      continue;
    }
    serviceLines.set(prefix, reader.line(item));
    services.push(prefix);
  }
  return services.length === items.length ? Object.freeze(services) : undefined;
}

function readHostPort(reader: NodeReader, node: Node): string | undefined {
  const upstream = reader.nonEmptyString(node, "upstream");
  if (upstream === undefined) return undefined;
  const match = HOST_PORT.exec(upstream);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) {
    return reader.report(
      node,
      `upstream "${upstream}" must be host:port with a port from 1 to 65535, e.g. master-api:50051`,
    );
  }
  return upstream;
}
