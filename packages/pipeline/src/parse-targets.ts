// Where a processor sends events: an HTTP endpoint, a gRPC service, or a JavaScript module.
import { dirname, resolve } from "node:path";
import type { Node } from "yaml";
import type { NodeReader } from "./node-reader.js";
import {
  type GrpcProcessorOptions,
  HTTP_FORMATS,
  HTTP_METHODS,
  type HttpProcessorOptions,
  PIPELINE_DEFAULTS,
} from "./types.js";

const HTTP_KEYS = ["url", "method", "timeoutMs", "headers", "signingSecret", "format"] as const;
const GRPC_KEYS = ["address", "timeoutMs", "tls"] as const;
// RFC 9110 token: fetch() throws on anything else, so refuse it here with a line number.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HOST_PORT = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/;

export function readHttp(reader: NodeReader, node: Node): HttpProcessorOptions | undefined {
  const fields = reader.mapping(node, "http", HTTP_KEYS);
  if (fields === undefined) return undefined;
  const before = reader.problemCount;

  const urlNode = reader.required(fields, "url", node, "http");
  const url = urlNode && readUrl(reader, urlNode);

  const methodNode = fields.get("method")?.value;
  const method = methodNode ? readMethod(reader, methodNode) : PIPELINE_DEFAULTS.httpMethod;

  const timeoutNode = fields.get("timeoutMs")?.value;
  const timeoutMs = timeoutNode
    ? reader.integer(timeoutNode, "timeoutMs", 1, PIPELINE_DEFAULTS.maxTimeoutMs)
    : PIPELINE_DEFAULTS.httpTimeoutMs;

  const headersNode = fields.get("headers")?.value;
  const headers = headersNode ? readHeaders(reader, headersNode) : {};

  const secretNode = fields.get("signingSecret")?.value;
  // Any non-empty string: the worker's signer tells "whsec_<base64>" from a raw secret.
  const signingSecret = secretNode && reader.nonEmptyString(secretNode, "signingSecret");

  const formatNode = fields.get("format")?.value;
  const format = formatNode ? readFormat(reader, formatNode) : "raw";
  // A CloudEvent travels in the request body (both formats: binary mode's data is the body).
  if (formatNode && format !== undefined && format !== "raw" && method === "GET") {
    reader.report(
      formatNode,
      `format ${format} sends each event in the request body; method GET sends none: use POST, PUT, PATCH or DELETE`,
    );
  }

  if (
    reader.problemCount > before ||
    url === undefined ||
    method === undefined ||
    timeoutMs === undefined ||
    headers === undefined ||
    format === undefined
  ) {
    return undefined;
  }
  return Object.freeze({
    url,
    method,
    timeoutMs,
    headers: Object.freeze(headers),
    ...(signingSecret === undefined ? {} : { signingSecret }),
    // Absent means raw, so a file without `format` parses to what it always did.
    ...(format === "raw" ? {} : { format }),
  });
}

export function readGrpc(reader: NodeReader, node: Node): GrpcProcessorOptions | undefined {
  const fields = reader.mapping(node, "grpc", GRPC_KEYS);
  if (fields === undefined) return undefined;
  const before = reader.problemCount;

  const addressNode = reader.required(fields, "address", node, "grpc");
  const address = addressNode && readAddress(reader, addressNode);

  const timeoutNode = fields.get("timeoutMs")?.value;
  const timeoutMs = timeoutNode
    ? reader.integer(timeoutNode, "timeoutMs", 1, PIPELINE_DEFAULTS.maxTimeoutMs)
    : PIPELINE_DEFAULTS.grpcTimeoutMs;

  const tlsNode = fields.get("tls")?.value;
  const tls = tlsNode ? reader.boolean(tlsNode, "tls") : false;

  if (
    reader.problemCount > before ||
    address === undefined ||
    timeoutMs === undefined ||
    tls === undefined
  ) {
    return undefined;
  }
  return Object.freeze({ address, timeoutMs, tls });
}

/** An absolute path; whether the file exists is the worker's to report when it imports it. */
export function readModule(reader: NodeReader, node: Node): string | undefined {
  const module = reader.nonEmptyString(node, "module");
  return module === undefined ? undefined : resolve(dirname(reader.source), module);
}

function readUrl(reader: NodeReader, node: Node): string | undefined {
  const url = reader.nonEmptyString(node, "url");
  if (url === undefined) return undefined;
  // The URL is not echoed: after ${NAME} substitution it may carry a token.
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return reader.report(node, "url must be an absolute URL, e.g. http://localhost:8080/events");
  }
  if (protocol !== "http:" && protocol !== "https:") {
    return reader.report(node, `url must use http: or https:, not ${protocol}`);
  }
  return url;
}

function readMethod(reader: NodeReader, node: Node): HttpProcessorOptions["method"] | undefined {
  const method = reader.string(node, "method")?.toUpperCase();
  if (method === undefined) return undefined;
  const known = HTTP_METHODS.find((m) => m === method);
  if (known === undefined) {
    return reader.report(node, `method "${method}" must be one of ${HTTP_METHODS.join(", ")}`);
  }
  return known;
}

function readFormat(reader: NodeReader, node: Node): HttpProcessorOptions["format"] {
  const format = reader.string(node, "format");
  if (format === undefined) return undefined;
  const known = HTTP_FORMATS.find((f) => f === format);
  if (known === undefined) {
    return reader.report(
      node,
      `format "${format.slice(0, 64)}" must be one of ${HTTP_FORMATS.join(", ")}`,
    );
  }
  return known;
}

function readHeaders(reader: NodeReader, node: Node): Record<string, string> | undefined {
  const fields = reader.mapping(node, "headers");
  if (fields === undefined) return undefined;
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, field] of fields) {
    if (!HEADER_NAME.test(name)) {
      reader.report(field.key, `header name "${name}" is not a valid HTTP header name`);
    } else if (seen.has(name.toLowerCase())) {
      reader.report(field.key, `header "${name}" is set twice (header names ignore case)`);
    }
    seen.add(name.toLowerCase());
    if (field.value === undefined) {
      reader.report(field.key, `header "${name}" has no value`);
      continue;
    }
    // Values are not echoed: they often hold credentials.
    const value = reader.string(field.value, `header "${name}"`);
    if (value !== undefined && /[\r\n\0]/.test(value)) {
      reader.report(field.value, `header "${name}" must not contain line breaks`);
    } else if (value !== undefined) {
      headers[name] = value;
    }
  }
  return headers;
}

function readAddress(reader: NodeReader, node: Node): string | undefined {
  const address = reader.nonEmptyString(node, "address");
  if (address === undefined) return undefined;
  const match = HOST_PORT.exec(address);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) {
    return reader.report(
      node,
      `address "${address}" must be host:port with a port from 1 to 65535, e.g. localhost:50061`,
    );
  }
  return address;
}
