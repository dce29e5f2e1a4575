// The shapes a pipeline file parses into. Everything here is frozen once built: the collector
// and the workers share one Pipeline for their whole life.
import type { ProxySettings } from "./proxy-types.js";

export interface Route {
  readonly name: string;
  /** Event type patterns; `*` matches any run of characters, everything else is literal. */
  readonly types: readonly string[];
  /** Every queue an event of the route is stored in (fan-out: one copy each, all or none). */
  readonly queues: readonly string[];
}

export type ResultOutcome = "onSuccess" | "onError";

export interface ResultsTarget {
  readonly queue: string;
  readonly when: readonly ResultOutcome[];
}

export interface HttpProcessorOptions {
  /** An absolute http: or https: URL. */
  readonly url: string;
  readonly method: "POST" | "PUT" | "PATCH" | "DELETE" | "GET";
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Standard Webhooks secret, "whsec_<base64>" (or any non-empty string). */
  readonly signingSecret?: string;
  /**
   * How each event is sent: "raw" (the payload as the body; also when absent),
   * "cloudevents-binary" (the payload as the body, attributes in ce- headers) or
   * "cloudevents-structured" (one application/cloudevents+json document). Absent for raw.
   */
  readonly format?: "raw" | "cloudevents-binary" | "cloudevents-structured";
}

export interface GrpcProcessorOptions {
  /** host:port */
  readonly address: string;
  readonly timeoutMs: number;
  readonly tls: boolean;
}

interface ProcessorBase {
  readonly route: string;
  /** The route's queue, resolved, so a worker needs no route lookup. */
  readonly queue: string;
  /** undefined: the worker's WORKER_CONCURRENCY. */
  readonly concurrency: number | undefined;
  readonly results: ResultsTarget | undefined;
}

export type ProcessorSpec =
  | (ProcessorBase & { readonly kind: "http"; readonly http: HttpProcessorOptions })
  | (ProcessorBase & { readonly kind: "grpc"; readonly grpc: GrpcProcessorOptions })
  /** module: an absolute path, resolved against the pipeline file's directory. */
  | (ProcessorBase & { readonly kind: "module"; readonly module: string })
  /** Only from defaultPipeline(): the worker's own handler choice (WORKER_HANDLER or simulated work). */
  | (ProcessorBase & { readonly kind: "default" });

export interface Pipeline {
  /** The file path; undefined for defaultPipeline(). */
  readonly source: string | undefined;
  readonly routes: readonly Route[];
  readonly processors: readonly ProcessorSpec[];
  /** Forwarding to a master API; empty lists without a `proxy:` section. */
  readonly proxy: ProxySettings;
}

export const HTTP_METHODS: readonly HttpProcessorOptions["method"][] = [
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "GET",
];
export const HTTP_FORMATS: readonly NonNullable<HttpProcessorOptions["format"]>[] = [
  "raw",
  "cloudevents-binary",
  "cloudevents-structured",
];
export const RESULT_OUTCOMES: readonly ResultOutcome[] = ["onSuccess", "onError"];

/** Defaults and limits in one place; the parsers and their error messages read them here. */
export const PIPELINE_DEFAULTS = Object.freeze({
  defaultRoute: "default",
  httpMethod: "POST",
  httpTimeoutMs: 15_000,
  grpcTimeoutMs: 30_000,
  maxTimeoutMs: 3_600_000,
  maxConcurrency: 100_000,
} as const);
