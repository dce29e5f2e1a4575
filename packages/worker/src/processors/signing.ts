// Standard Webhooks signatures (https://www.standardwebhooks.com/): the HTTP processor signs
// each request with them, and a receiver verifies them with verifyWebhook.
import { createHmac, timingSafeEqual } from "node:crypto";

const SECRET_PREFIX = "whsec_";
const SIGNATURE_VERSION = "v1";
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const UNIX_SECONDS = /^\d+$/;

/** Request headers as node:http (`req.headers`), a plain object or a fetch `Headers` give them. */
export type WebhookHeaders =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The HMAC key of a signing secret: the base64 after "whsec_" (the spec's form), or the UTF-8
 * bytes of a secret without that prefix.
 */
export function webhookKey(secret: string): Buffer {
  const key = secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), "base64")
    : Buffer.from(secret, "utf8");
  if (key.length === 0) {
    throw new TypeError(
      'The webhook signing secret is empty. Use "whsec_" followed by the base64 of 24 to 64 random bytes.',
    );
  }
  return key;
}

function mac(key: Buffer, id: string, timestampSeconds: number, body: Uint8Array | string): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestampSeconds}.`).update(body).digest();
}

/** The `webhook-signature` value for a message: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): string {
  return signWithKey(webhookKey(secret), id, timestampSeconds, body);
}

/** signWebhook with the key already decoded (webhookKey), for a sender signing every request. */
export function signWithKey(
  key: Buffer,
  id: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): string {
  return `${SIGNATURE_VERSION},${mac(key, id, timestampSeconds, body).toString("base64")}`;
}

function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  return typeof value === "string" ? value : value?.join(" ");
}

/**
 * True when the request carries a `webhook-signature` (one of several, space-separated, during
 * a key rotation) that `secret` made over this id, timestamp and body, and the timestamp is
 * within `toleranceSeconds` of now: a replay of an old request fails. Pass the raw body bytes,
 * not a re-serialised JSON.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: Uint8Array | string,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  const id = headerValue(headers, "webhook-id");
  const timestamp = headerValue(headers, "webhook-timestamp");
  const signatures = headerValue(headers, "webhook-signature");
  if (!id || !timestamp || !signatures || !UNIX_SECONDS.test(timestamp)) return false;
  const timestampSeconds = Number(timestamp);
  if (Math.abs(Date.now() / 1000 - timestampSeconds) > toleranceSeconds) return false;

  const expected = Buffer.from(
    mac(webhookKey(secret), id, timestampSeconds, body).toString("base64"),
  );
  let matched = false;
  // Every entry is compared, so the time taken does not tell which one matched.
  for (const entry of signatures.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== SIGNATURE_VERSION) continue;
    const given = Buffer.from(entry.slice(comma + 1));
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}
