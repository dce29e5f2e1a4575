// HTTP processors end to end: a collector process routes events by type from a pipeline file,
// a worker process hands them to an HTTP endpoint (a node:http server in the test), and each
// test accounts for every event id: acknowledged to the producer, seen by the receiver, left
// as a result, dead-lettered.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { queueKeys, readQueueStats } from "../packages/queue/src/index.js";
import { verifyWebhook } from "../packages/worker/src/index.js";
import { type ReceivedRequest, repeated, usePipelineRun } from "../test-support/pipeline-run.js";
import {
  answer,
  deadLetterId,
  expectNothingHeld,
  FAST_RETRIES,
  httpPipeline,
  loginEvents,
  payloadId,
  SECRET,
} from "../test-support/processor-fixtures.js";
import { freePort } from "../test-support/redis-server.js";

const run = usePipelineRun();

describe("HTTP processor, end to end", () => {
  it("REST sample: every user_login leaves exactly one echoed 200 response in the results queue", async () => {
    const r = run();
    const server = await r.startHttpServer((request, res) =>
      answer(res, 200, request.body, "application/json"),
    );
    const { file, queue, results, other } = httpPipeline(r, "rest", {
      url: `${server.origin}/payload`,
      signingSecret: SECRET,
    });
    const [{ address }] = await Promise.all([r.startCollector(file), r.startWorker("rest", file)]);

    const events = loginEvents(200);
    const sent = await r.send(address, events);
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await r.waitUntilDrained(queue);

    // One result per acknowledged id, carrying the receiver's answer to that very event.
    const payloads = new Map(events.map((event) => [event.eventId, event.payload]));
    const stored = await r.readQueue(results);
    const resultIds = stored.map((event) => event.eventId);
    expect(repeated(resultIds)).toEqual([]);
    expect(new Set(resultIds)).toEqual(sent.acknowledged);
    for (const result of stored) {
      expect(Buffer.from(result.payload)).toEqual(payloads.get(result.eventId));
      expect(result.type).toBe("user_login");
      expect(result.attributes).toMatchObject({
        "eventpipe.status": "200",
        "eventpipe.outcome": "success",
        "eventpipe.route": "logins",
        "content-type": "application/json",
      });
    }

    // The receiver saw every id, each request named by its own event id.
    for (const request of server.requests) {
      expect(request.headers["webhook-id"]).toBe(payloadId(request));
      expect(request.headers.authorization).toBe("Basic x");
      expect(request.headers["eventpipe-event-type"]).toBe("user_login");
    }
    expect(new Set(server.requests.map(payloadId))).toEqual(sent.acknowledged);

    const { verdict } = await r.account(queue, sent, resultIds);
    expect(verdict.problems).toEqual([]);
    expect(verdict.counts).toMatchObject({ handled: 200, duplicates: 0, deadLettered: 0 });
    await expectNothingHeld(r, queue);
    const stats = await readQueueStats(r.redis, queueKeys(queue));
    expect(stats).toMatchObject({ processed: 200, pending: 0, inFlight: 0, deadLettered: 0 });
    expect(stats.byType).toEqual({ user_login: 200 });
    // Nothing was routed anywhere else.
    expect((await r.audit(other)).stored.size).toBe(0);
  });

  it("retries 500s with a stable webhook-id, then keeps the 200 once per event", async () => {
    const r = run();
    const answered = new Map<string, number>();
    const server = await r.startHttpServer((request, res) => {
      const id = payloadId(request);
      const before = answered.get(id) ?? 0;
      answered.set(id, before + 1);
      if (before < 3) answer(res, 500, `busy with ${id}`);
      else answer(res, 200, request.body, "application/json");
    });
    const { file, queue, results } = httpPipeline(r, "flaky", { url: `${server.origin}/payload` });
    const [{ address }] = await Promise.all([
      r.startCollector(file),
      r.startWorker("flaky", file, { MAX_ATTEMPTS: "5", ...FAST_RETRIES }),
    ]);

    const sent = await r.send(address, loginEvents(100));
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await r.waitUntilDrained(queue);

    // Four requests per event, all carrying the event's id, attempts counted 1..4.
    const byPayload = new Map<string, ReceivedRequest[]>();
    for (const request of server.requests) {
      const id = payloadId(request);
      byPayload.set(id, [...(byPayload.get(id) ?? []), request]);
    }
    expect(new Set(byPayload.keys())).toEqual(sent.acknowledged);
    for (const [id, requests] of byPayload) {
      expect(requests.map((request) => request.headers["webhook-id"])).toEqual([id, id, id, id]);
      expect(requests.map((request) => request.headers["eventpipe-attempt"])).toEqual([
        "1",
        "2",
        "3",
        "4",
      ]);
    }

    const stored = await r.readQueue(results);
    const resultIds = stored.map((event) => event.eventId);
    expect(repeated(resultIds)).toEqual([]);
    expect(new Set(resultIds)).toEqual(sent.acknowledged);
    for (const result of stored) expect(result.attributes["eventpipe.status"]).toBe("200");

    const { verdict } = await r.account(queue, sent, resultIds);
    expect(verdict.problems).toEqual([]);
    expect(verdict.counts).toMatchObject({ handled: 100, duplicates: 0, deadLettered: 0 });
    await expectNothingHeld(r, queue);
  });

  it("dead-letters every event a 404 rejects, with the status and the start of the body", async () => {
    const r = run();
    const bodyOf = (id: string) => `no such user for ${id}: ${"account closed. ".repeat(100)}`;
    const server = await r.startHttpServer((request, res) =>
      answer(res, 404, bodyOf(payloadId(request))),
    );
    const { file, queue, results } = httpPipeline(r, "missing", {
      url: `${server.origin}/payload`,
    });
    const [{ address }] = await Promise.all([
      r.startCollector(file),
      r.startWorker("missing", file, { MAX_ATTEMPTS: "5", ...FAST_RETRIES }),
    ]);

    const sent = await r.send(address, loginEvents(50));
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await r.waitUntilDrained(queue);

    const deadLetters = await r.deadLetters(queue);
    const deadIds = deadLetters.map(deadLetterId);
    expect(repeated(deadIds)).toEqual([]);
    expect(new Set(deadIds)).toEqual(sent.acknowledged);
    for (const { meta, stored } of deadLetters) {
      const body = bodyOf(stored?.event?.eventId ?? "");
      expect(meta).toMatchObject({ reason: "rejected", status: 404, attempts: 1 });
      expect(meta.message).toContain("HTTP 404");
      expect(meta.message).toContain(body.slice(0, 80));
      // The start of the body, not all of it: a dead letter stays readable.
      expect(meta.message.length).toBeLessThan(body.length);
    }
    // A rejection is final: one request per event, no result.
    expect(repeated(server.requests.map(payloadId))).toEqual([]);
    expect(await r.readQueue(results)).toEqual([]);

    const { verdict } = await r.account(queue, sent, []);
    expect(verdict.problems).toEqual([]);
    expect(verdict.counts).toMatchObject({ deadLettered: 50, handled: 0 });
    await expectNothingHeld(r, queue);
  });

  it("keeps a 4xx answer as an error result when the pipeline asks for onError results", async () => {
    const r = run();
    const server = await r.startHttpServer((request, res) =>
      answer(res, 422, JSON.stringify({ invalid: payloadId(request) }), "application/json"),
    );
    const { file, queue, results } = httpPipeline(r, "errors", {
      url: `${server.origin}/payload`,
      when: ["onSuccess", "onError"],
    });
    const [{ address }] = await Promise.all([
      r.startCollector(file),
      r.startWorker("errors", file, FAST_RETRIES),
    ]);

    const sent = await r.send(address, loginEvents(40));
    await r.waitUntilDrained(queue);

    const stored = await r.readQueue(results);
    const resultIds = stored.map((event) => event.eventId);
    expect(repeated(resultIds)).toEqual([]);
    expect(new Set(resultIds)).toEqual(sent.acknowledged);
    for (const result of stored) {
      expect(result.attributes).toMatchObject({
        "eventpipe.outcome": "error",
        "eventpipe.status": "422",
        "content-type": "application/json",
      });
      expect(JSON.parse(Buffer.from(result.payload).toString())).toEqual({
        invalid: result.eventId,
      });
    }
    expect(await r.deadLetters(queue)).toEqual([]);
    const { verdict } = await r.account(queue, sent, resultIds);
    expect(verdict.problems).toEqual([]);
    await expectNothingHeld(r, queue);
  });

  it("retries a receiver that never answers, then dead-letters with the timeout as lastError", async () => {
    const r = run();
    // Never answers; the harness drops the open requests at cleanup.
    const server = await r.startHttpServer(() => {});
    const { file, queue, results } = httpPipeline(r, "hang", {
      url: `${server.origin}/payload`,
      timeoutMs: 400,
    });
    const [{ address }] = await Promise.all([
      r.startCollector(file),
      r.startWorker("hang", file, { MAX_ATTEMPTS: "2", ...FAST_RETRIES }),
    ]);

    const sent = await r.send(address, loginEvents(20));
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await r.waitUntilDrained(queue);

    const deadLetters = await r.deadLetters(queue);
    const deadIds = deadLetters.map(deadLetterId);
    expect(new Set(deadIds)).toEqual(sent.acknowledged);
    expect(repeated(deadIds)).toEqual([]);
    for (const { meta } of deadLetters) {
      expect(meta).toMatchObject({ reason: "max_attempts", attempts: 2 });
      expect(meta.lastError).toMatch(/timed out after 400 ms/);
    }
    // Each id reached the receiver on both attempts.
    for (const id of sent.acknowledged) {
      expect(server.requestsFor(id).map((request) => request.headers["eventpipe-attempt"])).toEqual(
        ["1", "2"],
      );
    }
    expect(await r.readQueue(results)).toEqual([]);
    const { verdict } = await r.account(queue, sent, []);
    expect(verdict.problems).toEqual([]);
    await expectNothingHeld(r, queue);
  });

  it("retries a receiver that is down, then dead-letters with ECONNREFUSED as lastError", async () => {
    const r = run();
    // A port that was free a moment ago and that nothing listens on.
    const closedPort = await freePort();
    const { file, queue, results } = httpPipeline(r, "down", {
      url: `http://127.0.0.1:${closedPort}/payload`,
    });
    const [{ address }] = await Promise.all([
      r.startCollector(file),
      r.startWorker("down", file, { MAX_ATTEMPTS: "3", ...FAST_RETRIES }),
    ]);

    const sent = await r.send(address, loginEvents(20));
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await r.waitUntilDrained(queue);

    const deadLetters = await r.deadLetters(queue);
    const deadIds = deadLetters.map(deadLetterId);
    expect(new Set(deadIds)).toEqual(sent.acknowledged);
    expect(repeated(deadIds)).toEqual([]);
    for (const { meta } of deadLetters) {
      expect(meta).toMatchObject({ reason: "max_attempts", attempts: 3 });
      expect(meta.firstError).toMatch(/ECONNREFUSED/);
      expect(meta.lastError).toMatch(/ECONNREFUSED/);
    }
    expect(await r.readQueue(results)).toEqual([]);
    const { verdict } = await r.account(queue, sent, []);
    expect(verdict.problems).toEqual([]);
    await expectNothingHeld(r, queue);
  });

  it("signs every request: a verifying receiver accepts the right secret and rejects a wrong one", async () => {
    const r = run();
    const verified = new Set<string>();
    const refused = new Set<string>();
    const server = await r.startHttpServer((request, res) => {
      const id = String(request.headers["webhook-id"]);
      if (verifyWebhook(SECRET, request.headers, request.body)) {
        verified.add(id);
        answer(res, 200, request.body, "application/json");
      } else {
        refused.add(id);
        answer(res, 401, "signature does not verify");
      }
    });
    const url = `${server.origin}/payload`;
    const wrongSecret = `whsec_${randomBytes(24).toString("base64")}`;
    const good = httpPipeline(r, "signed", { url, signingSecret: SECRET });
    const bad = httpPipeline(r, "missigned", { url, signingSecret: wrongSecret });
    const worker = { MAX_ATTEMPTS: "5", ...FAST_RETRIES };
    const [goodCollector, badCollector] = await Promise.all([
      r.startCollector(good.file),
      r.startCollector(bad.file),
      r.startWorker("signed", good.file, worker),
      r.startWorker("missigned", bad.file, worker),
    ]);

    const [goodSent, badSent] = await Promise.all([
      r.send(goodCollector.address, loginEvents(50)),
      r.send(badCollector.address, loginEvents(50, "auth.login")),
    ]);
    expect(goodSent.acknowledged).toEqual(new Set(goodSent.sent));
    expect(badSent.acknowledged).toEqual(new Set(badSent.sent));
    await Promise.all([r.waitUntilDrained(good.queue), r.waitUntilDrained(bad.queue)]);

    // The right secret: every event verified and answered.
    expect(verified).toEqual(goodSent.acknowledged);
    const goodResults = (await r.readQueue(good.results)).map((event) => event.eventId);
    expect(new Set(goodResults)).toEqual(goodSent.acknowledged);
    expect(repeated(goodResults)).toEqual([]);
    expect(await r.deadLetters(good.queue)).toEqual([]);

    // The wrong one: every event refused once, and dead-lettered as rejected with the 401.
    expect(refused).toEqual(badSent.acknowledged);
    const deadLetters = await r.deadLetters(bad.queue);
    const deadIds = deadLetters.map(deadLetterId);
    expect(new Set(deadIds)).toEqual(badSent.acknowledged);
    expect(repeated(deadIds)).toEqual([]);
    for (const { meta } of deadLetters) {
      expect(meta).toMatchObject({ reason: "rejected", status: 401, attempts: 1 });
    }
    expect(await r.readQueue(bad.results)).toEqual([]);

    for (const [queue, sent, handled] of [
      [good.queue, goodSent, goodResults],
      [bad.queue, badSent, []],
    ] as const) {
      const { verdict } = await r.account(queue, sent, handled);
      expect(verdict.problems).toEqual([]);
      await expectNothingHeld(r, queue);
    }
  });
});
