// What the processor end-to-end tests share: events that carry their own id in the payload,
// a pipeline file with an HTTP processor, and the check that a queue holds nothing anywhere.
import type { ServerResponse } from "node:http";
import { expect } from "vitest";
import { newEvent } from "../packages/producer/src/index.js";
import type { Event } from "../packages/proto/src/index.js";
import type { DeadLetter } from "../packages/queue/src/index.js";
import type { PipelineRun, ReceivedRequest } from "./pipeline-run.js";

export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/** Quick retries: the tests wait on outcomes, not on the backoff. */
export const FAST_RETRIES = { RETRY_BASE_DELAY_MS: "20", RETRY_MAX_DELAY_MS: "100" };

/** user_login events whose JSON payload names their own id, so a receiver can tell them apart. */
export function loginEvents(count: number, type = "user_login"): Event[] {
  return Array.from({ length: count }, (_, i) => {
    const event = newEvent(type, { source: "processors.test" });
    const payload = { eventId: event.eventId, user: `user-${i}`, n: i };
    return { ...event, payload: Buffer.from(JSON.stringify(payload)) };
  });
}

export function deadLetterId(entry: DeadLetter): string {
  return entry.stored?.event?.eventId ?? "(undecodable)";
}

/** The event id a payload of loginEvents() carries. */
export function payloadId(request: ReceivedRequest): string {
  return (JSON.parse(request.body.toString("utf8")) as { eventId: string }).eventId;
}

export function answer(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type = "text/plain",
) {
  res.writeHead(status, { "content-type": type });
  res.end(body);
}

export interface HttpPipelineOptions {
  readonly url: string;
  readonly timeoutMs?: number;
  readonly signingSecret?: string;
  /** The outcomes kept as results; default onSuccess. */
  readonly when?: readonly ("onSuccess" | "onError")[];
}

/**
 * A pipeline file whose `logins` route (user_login, auth.*) goes to an HTTP processor that
 * keeps its successful answers in a results queue; every other type to a queue nobody serves.
 */
export function httpPipeline(r: PipelineRun, label: string, options: HttpPipelineOptions) {
  const queue = r.queueName(`${label}_logins`);
  const results = r.queueName(`${label}_results`);
  const other = r.queueName(`${label}_default`);
  const http = {
    url: options.url,
    method: "POST",
    timeoutMs: options.timeoutMs ?? 15_000,
    headers: { Authorization: "Basic x" },
    ...(options.signingSecret === undefined ? {} : { signingSecret: options.signingSecret }),
  };
  // JSON is YAML: a flow mapping written by JSON.stringify needs no escaping by hand.
  const file = r.writePipeline(
    `${label}.yaml`,
    `routes:
  - { name: logins, types: ["user_login", "auth.*"], queue: ${queue} }
  - { name: default, types: ["*"], queue: ${other} }
processors:
  - route: logins
    http: ${JSON.stringify(http)}
    concurrency: 32
    results: { queue: ${results}, when: [${(options.when ?? ["onSuccess"]).join(", ")}] }
`,
  );
  return { file, queue, results, other };
}

/** The route's queue holds nothing anywhere: not pending, held, delayed, or orphaned. */
export async function expectNothingHeld(r: PipelineRun, queue: string): Promise<void> {
  const audit = await r.audit(queue);
  expect(audit).toMatchObject({
    pending: [],
    inFlight: [],
    delayed: [],
    undecodable: 0,
    orphanedHolders: [],
  });
}
