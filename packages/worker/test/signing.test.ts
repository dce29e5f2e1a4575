import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signWebhook, verifyWebhook } from "../src/processors/signing.js";

// The example of the Standard Webhooks test suites (standard-webhooks/standard-webhooks,
// libraries/*/ tests), which Svix's libraries share.
const REFERENCE = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

const SECRET = "whsec_c2VjcmV0LWZvci10aGUtc2lnbmluZy10ZXN0cy0xMjM0NQ==";
const OTHER_SECRET = "whsec_YW5vdGhlci1zZWNyZXQtZm9yLXRoZS1zaWduaW5nLXRlc3Rz";
const BODY = '{"order":42}';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function headersFor(signature: string, timestamp = nowSeconds(), id = "evt_1") {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("signWebhook", () => {
  it("matches the Standard Webhooks reference example", () => {
    const { secret, id, timestamp, body, signature } = REFERENCE;
    expect(signWebhook(secret, id, timestamp, body)).toBe(signature);
    expect(signWebhook(secret, id, timestamp, Buffer.from(body))).toBe(signature);
  });

  it("uses the UTF-8 bytes of a secret without the whsec_ prefix", () => {
    const expected = createHmac("sha256", Buffer.from("plain-secret"))
      .update(`evt_1.1700000000.${BODY}`)
      .digest("base64");
    expect(signWebhook("plain-secret", "evt_1", 1_700_000_000, BODY)).toBe(`v1,${expected}`);
  });

  it("refuses an empty secret", () => {
    expect(() => signWebhook("whsec_", "evt_1", 1, BODY)).toThrow(/secret is empty/);
  });
});

describe("verifyWebhook", () => {
  it("accepts the reference example at its own time", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(REFERENCE.timestamp * 1000);
    const headers = headersFor(REFERENCE.signature, REFERENCE.timestamp, REFERENCE.id);
    expect(verifyWebhook(REFERENCE.secret, headers, REFERENCE.body)).toBe(true);
  });

  it("accepts a fresh signature, from node:http headers, a plain object or fetch Headers", () => {
    const timestamp = nowSeconds();
    const headers = headersFor(signWebhook(SECRET, "evt_1", timestamp, BODY), timestamp);
    expect(verifyWebhook(SECRET, headers, BODY)).toBe(true);
    expect(verifyWebhook(SECRET, headers, Buffer.from(BODY))).toBe(true);
    expect(verifyWebhook(SECRET, new Headers(headers), BODY)).toBe(true);
    const capitalised = {
      "Webhook-Id": headers["webhook-id"],
      "Webhook-Timestamp": headers["webhook-timestamp"],
      "Webhook-Signature": headers["webhook-signature"],
    };
    expect(verifyWebhook(SECRET, capitalised, BODY)).toBe(true);
  });

  it("rejects a timestamp outside the tolerance, in the past or the future", () => {
    const old = nowSeconds() - 600;
    const ahead = nowSeconds() + 600;
    const signedOld = headersFor(signWebhook(SECRET, "evt_1", old, BODY), old);
    const signedAhead = headersFor(signWebhook(SECRET, "evt_1", ahead, BODY), ahead);
    expect(verifyWebhook(SECRET, signedOld, BODY)).toBe(false);
    expect(verifyWebhook(SECRET, signedAhead, BODY)).toBe(false);
    expect(verifyWebhook(SECRET, signedOld, BODY, 3600)).toBe(true);
  });

  it("accepts any one of several signatures (a key rotation), skipping other versions", () => {
    const timestamp = nowSeconds();
    const right = signWebhook(SECRET, "evt_1", timestamp, BODY);
    const wrong = signWebhook(OTHER_SECRET, "evt_1", timestamp, BODY);
    const v2 = `v2,${right.slice(3)}`;
    expect(verifyWebhook(SECRET, headersFor(`${wrong} ${right}`, timestamp), BODY)).toBe(true);
    expect(verifyWebhook(SECRET, headersFor(`${right} ${wrong}`, timestamp), BODY)).toBe(true);
    expect(verifyWebhook(SECRET, headersFor(`${wrong} ${v2}`, timestamp), BODY)).toBe(false);
  });

  it("rejects a tampered body, id or timestamp, and a wrong secret", () => {
    const timestamp = nowSeconds();
    const signature = signWebhook(SECRET, "evt_1", timestamp, BODY);
    expect(verifyWebhook(SECRET, headersFor(signature, timestamp), '{"order":43}')).toBe(false);
    expect(verifyWebhook(SECRET, headersFor(signature, timestamp, "evt_2"), BODY)).toBe(false);
    expect(verifyWebhook(SECRET, headersFor(signature, timestamp - 1), BODY)).toBe(false);
    expect(verifyWebhook(OTHER_SECRET, headersFor(signature, timestamp), BODY)).toBe(false);
  });

  it("rejects missing or malformed headers", () => {
    const timestamp = nowSeconds();
    const signature = signWebhook(SECRET, "evt_1", timestamp, BODY);
    const { "webhook-signature": _, ...unsigned } = headersFor(signature, timestamp);
    expect(verifyWebhook(SECRET, unsigned, BODY)).toBe(false);
    expect(verifyWebhook(SECRET, headersFor(signature, timestamp, ""), BODY)).toBe(false);
    const notANumber = { ...headersFor(signature, timestamp), "webhook-timestamp": "soon" };
    expect(verifyWebhook(SECRET, notANumber, BODY)).toBe(false);
    expect(verifyWebhook(SECRET, headersFor("v1,", timestamp), BODY)).toBe(false);
    expect(verifyWebhook(SECRET, headersFor(signature.slice(3), timestamp), BODY)).toBe(false);
  });
});
