// UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter and 62 random
// bits, so the ids the HTTP door makes for events sort by creation time. Ids made in the same
// millisecond stay ordered through the counter (the RFC's "method 1"), which starts at a random
// value below half its range each millisecond so it rarely runs out; if it does, the time
// field moves on by one millisecond. No dependency: crypto.randomFillSync on a small pool.
import { randomFillSync } from "node:crypto";

/** Random bytes taken 8 at a time: rand_b of one id, or a counter's starting value. */
const pool = Buffer.alloc(256 * 8);
let poolOffset = pool.length;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

let lastMs = -1;
let counter = 0;

/** The offset in `pool` of 8 random bytes nobody used yet. */
function randomBytes8(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 8;
  return at;
}

function randomCounter(): number {
  const at = randomBytes8();
  return ((pool[at]! << 8) | pool[at + 1]!) & 0x7ff;
}

/** A new UUID v7 in the canonical lower-case 8-4-4-4-12 form. */
export function uuidV7(nowMs: number = Date.now()): string {
  let ms = Math.max(nowMs, lastMs);
  if (ms === lastMs) {
    counter++;
    if (counter > 0xfff) {
      ms++;
      counter = randomCounter();
    }
  } else {
    counter = randomCounter();
  }
  lastMs = ms;
  const r = randomBytes8();
  // 48-bit milliseconds, big-endian; Math.floor keeps the high 16 bits exact past 2^32.
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms >>> 0;
  const b = [
    (high >>> 8) & 0xff,
    high & 0xff,
    (low >>> 24) & 0xff,
    (low >>> 16) & 0xff,
    (low >>> 8) & 0xff,
    low & 0xff,
    0x70 | (counter >>> 8),
    counter & 0xff,
    0x80 | (pool[r]! & 0x3f),
    pool[r + 1]!,
    pool[r + 2]!,
    pool[r + 3]!,
    pool[r + 4]!,
    pool[r + 5]!,
    pool[r + 6]!,
    pool[r + 7]!,
  ];
  let text = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text += "-";
    text += HEX[b[i]!];
  }
  return text;
}
