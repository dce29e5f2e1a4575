import { describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { newEvent } from "../../producer/src/index.js";
import {
  decodeEnvelope,
  encodeDeadLetter,
  encodeNewEvent,
  listDeadLetters,
  purgeDeadLetters,
  queueKeys,
  replayDeadLetters,
} from "../src/index.js";

const { redis } = useSharedRedis();

describe("dead-letter tools", () => {
  it("list, replay by type and purge by reason, leaving the others", async () => {
    const keys = queueKeys(uniqueQueueName("dlq"));
    const logins = [newEvent("user_login"), newEvent("user_login")];
    const view = newEvent("page_view");
    const meta = (reason: "max_attempts" | "poison") => ({
      reason,
      message: "test",
      worker: "w",
      deadLetteredAtMs: Date.now(),
    });
    for (const event of logins) {
      const stale = { ...decodeEnvelope(encodeNewEvent(event, 1)).stored, attempts: 5 };
      await redis.lpush(
        keys.deadLetter,
        encodeDeadLetter(meta("max_attempts"), encodeNewEvent(stale.event!, 1)),
      );
    }
    await redis.lpush(keys.deadLetter, encodeDeadLetter(meta("poison"), encodeNewEvent(view, 1)));
    await redis.lpush(keys.deadLetter, Buffer.from("garbage"));

    const all = await listDeadLetters(redis, keys);
    expect(all.map((e) => e.meta.reason)).toEqual([
      "undecodable",
      "poison",
      "max_attempts",
      "max_attempts",
    ]);

    expect(await replayDeadLetters(redis, keys, { type: "user_login" })).toBe(2);
    const queued = (await redis.lrangeBuffer(keys.pending, 0, -1))
      .reverse()
      .map((raw) => decodeEnvelope(raw));
    expect(queued.map((q) => q.stored.event!.eventId)).toEqual(logins.map((e) => e.eventId));
    expect(queued.every((q) => q.stored.attempts === 0 && q.deliveries === 0)).toBe(true);
    expect(await replayDeadLetters(redis, keys, { type: "user_login" })).toBe(0);

    expect(await purgeDeadLetters(redis, keys, { reason: "poison" })).toBe(1);
    expect((await listDeadLetters(redis, keys)).map((e) => e.meta.reason)).toEqual(["undecodable"]);
  });
});
