// The JSON body both sides of the HTTP processor figures POST: the undici ceiling sends it
// itself, the worker sends it as the payload of a queued event. About 200 bytes, the size of
// a typical webhook notification.

const AGENT = "Mozilla/5.0 (X11; Linux x86_64) bench/1.0";
const REFERRER = "https://shop.example.com/search?q=shoes";

/** Event `n`'s payload: 189-210 bytes of JSON. */
export function webhookPayload(n: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: n % 2 ? "page_view" : "user_login",
      user: `u${n}`,
      session: `s-${(n * 2_654_435_761) % 4_294_967_296}`,
      path: `/products/${n % 1000}/reviews`,
      referrer: REFERRER,
      agent: AGENT,
      n,
    }),
  );
}
