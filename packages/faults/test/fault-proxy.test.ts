import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { type FaultProxy, startFaultProxy } from "../src/fault-proxy.js";

const { redisUrl, redis } = useSharedRedis();
const redisTarget = { host: "127.0.0.1", port: Number(new URL(redisUrl).port) };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxyTo(target = redisTarget, port?: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy(target, { port });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** An ioredis client through the proxy; its connection errors are collected, not logged. */
function clientVia(
  proxy: FaultProxy,
  options: RedisOptions = {},
): { client: Redis; errors: Error[] } {
  const client = new Redis(proxy.url(), { retryStrategy: () => 20, ...options });
  const errors: Error[] = [];
  client.on("error", (error: Error) => errors.push(error));
  cleanups.push(() => client.disconnect());
  return { client, errors };
}

function uniqueKey(label: string): string {
  return `test_fault_proxy_${label}_${randomUUID()}`;
}

/** A raw TCP server on 127.0.0.1 whose connections are handed to `onSocket`. */
async function rawServer(
  onSocket: (socket: Socket) => void,
): Promise<{ host: string; port: number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("server has no port");
  return { host: "127.0.0.1", port: address.port };
}

async function rawClient(proxy: FaultProxy): Promise<Socket> {
  const socket = createConnection({ host: "127.0.0.1", port: proxy.port });
  socket.on("error", () => {});
  cleanups.push(() => socket.destroy());
  await once(socket, "connect");
  return socket;
}

describe("fault proxy: pass", () => {
  it("forwards commands and replies untouched and counts connections", async () => {
    const proxy = await proxyTo();
    const { client } = clientVia(proxy);
    const key = uniqueKey("pass");
    expect(await client.set(key, "v")).toBe("OK");
    expect(await client.get(key)).toBe("v");
    expect(await redis.get(key)).toBe("v");
    expect(proxy.stats).toMatchObject({ accepted: 1, open: 1, resets: 0 });
    client.disconnect();
    await expect.poll(() => proxy.stats.open, { timeout: 5000 }).toBe(0);
  });

  it("stops reading a sender whose receiver does not read (backpressure)", async () => {
    let stalled: Socket | undefined;
    let received = 0;
    const target = await rawServer((socket) => {
      stalled = socket;
      socket.pause();
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
    });
    const proxy = await proxyTo(target);
    const socket = await rawClient(proxy);
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 64 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += chunk.length) socket.write(chunk);

    // Wait until the client's buffer stops shrinking: everything the kernel and the proxy
    // would take has been taken. An unbounded proxy would have drained it to zero.
    let previous = -1;
    await vi.waitFor(
      () => {
        const now = socket.writableLength;
        const settled = now === previous;
        previous = now;
        if (!settled) throw new Error(`still draining: ${now} bytes buffered`);
      },
      { timeout: 20_000, interval: 300 },
    );
    expect(socket.writableLength).toBeGreaterThan(total / 4);

    stalled!.resume();
    await expect.poll(() => received, { timeout: 20_000 }).toBe(total);
  });
});

describe("fault proxy: latency", () => {
  it("delays each direction and keeps the commands in order", async () => {
    const proxy = await proxyTo();
    const { client } = clientVia(proxy);
    await client.ping();
    const ms = 100;
    proxy.setMode({ kind: "latency", ms });

    const started = performance.now();
    expect(await client.ping()).toBe("PONG");
    // Each direction waits `ms`; allow a little for timer rounding. No upper bound: noisy CI.
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * ms - 10);

    const key = uniqueKey("latency");
    const values = Array.from({ length: 50 }, (_, i) => String(i));
    await Promise.all(values.map((value) => client.rpush(key, value)));
    expect(await redis.lrange(key, 0, -1)).toEqual(values);
  });

  it("keeps byte order when latency is lifted while chunks are still queued", async () => {
    const target = await rawServer((socket) => socket.pipe(socket));
    const proxy = await proxyTo(target);
    proxy.setMode({ kind: "latency", ms: 50 });
    const socket = await rawClient(proxy);
    const echoed: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => echoed.push(chunk));

    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const line = `line ${i}\n`;
      sent.push(line);
      socket.write(line);
      if (i === 100) proxy.setMode({ kind: "pass" });
      // Spread the writes over several ticks so they arrive as separate chunks.
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = sent.join("");
    await expect
      .poll(() => Buffer.concat(echoed).length, { timeout: 10_000 })
      .toBe(Buffer.byteLength(expected));
    expect(Buffer.concat(echoed).toString()).toBe(expected);
  });
});

describe("fault proxy: resets", () => {
  it("resetAll: the client sees a connection error and reconnects", async () => {
    const proxy = await proxyTo();
    const { client, errors } = clientVia(proxy);
    expect(await client.ping()).toBe("PONG");

    proxy.resetAll();
    await expect
      .poll(() => errors.map((e) => (e as NodeJS.ErrnoException).code), { timeout: 5000 })
      .toContain("ECONNRESET");
    expect(proxy.stats.resets).toBe(1);
    await expect.poll(() => client.status, { timeout: 5000 }).toBe("ready");
    expect(await client.ping()).toBe("PONG");
    expect(proxy.stats.accepted).toBe(2);
  });

  it("resetAfterNextRequest: the command runs on Redis, its reply is lost", async () => {
    const proxy = await proxyTo();
    const { client } = clientVia(proxy, {
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    });
    const key = uniqueKey("incr");
    expect(await client.incr(key)).toBe(1);

    const cut = proxy.resetAfterNextRequest();
    await expect(client.incr(key)).rejects.toThrow();
    await cut;
    expect(await redis.get(key)).toBe("2");
    expect(proxy.stats.resets).toBe(1);

    await expect.poll(() => client.status, { timeout: 5000 }).toBe("ready");
    expect(await client.incr(key)).toBe(3);
  });
});

describe("fault proxy: blackhole and half-open", () => {
  it("blackhole: commands time out; after pass a new connection works", async () => {
    const proxy = await proxyTo();
    const { client } = clientVia(proxy, { commandTimeout: 300 });
    expect(await client.ping()).toBe("PONG");

    proxy.setMode({ kind: "blackhole" });
    await expect(client.ping()).rejects.toThrow(/timed out/);
    expect(client.status).toBe("ready"); // the connection stays open: nothing tells it

    proxy.setMode({ kind: "pass" });
    const { client: fresh } = clientVia(proxy);
    expect(await fresh.ping()).toBe("PONG");
  });

  it("blackhole: a connection accepted meanwhile is connected onward once it is lifted", async () => {
    let connections = 0;
    const target = await rawServer((socket) => {
      connections++;
      socket.pipe(socket);
    });
    const proxy = await proxyTo(target);
    proxy.setMode({ kind: "blackhole" });
    const socket = await rawClient(proxy);
    const echoed: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => echoed.push(chunk));
    await expect.poll(() => proxy.stats.accepted, { timeout: 5000 }).toBe(1);
    expect(connections).toBe(0);

    proxy.setMode({ kind: "pass" });
    socket.write("kept\n");
    await expect.poll(() => Buffer.concat(echoed).toString(), { timeout: 5000 }).toBe("kept\n");
    expect(connections).toBe(1);
  });

  it("half-open to-client: the command runs on Redis, the reply never arrives", async () => {
    const proxy = await proxyTo();
    const { client } = clientVia(proxy, { commandTimeout: 300 });
    const key = uniqueKey("half_open_client");
    expect(await client.set(key, "0")).toBe("OK");

    proxy.setMode({ kind: "half-open", drop: "to-client" });
    await expect(client.incr(key)).rejects.toThrow(/timed out/);
    await expect.poll(() => redis.get(key), { timeout: 5000 }).toBe("1");
  });

  it("half-open to-target: replies would flow, but the command never reaches Redis", async () => {
    const proxy = await proxyTo();
    const { client } = clientVia(proxy, { commandTimeout: 300 });
    const key = uniqueKey("half_open_target");
    expect(await client.set(key, "0")).toBe("OK");

    proxy.setMode({ kind: "half-open", drop: "to-target" });
    await expect(client.incr(key)).rejects.toThrow(/timed out/);
    expect(await redis.get(key)).toBe("0");
  });
});

describe("fault proxy: held traffic", () => {
  it("arrives once the fault lifts, in order, like TCP across a healed partition", async () => {
    const proxy = await proxyTo();
    const { client } = clientVia(proxy);
    const key = uniqueKey("held");
    expect(await client.set(key, "0")).toBe("OK");

    proxy.setMode({ kind: "blackhole" });
    const replies = Promise.all([client.incr(key), client.incr(key)]);
    await expect.poll(() => proxy.stats.accepted).toBe(1);
    expect(await redis.get(key)).toBe("0");
    proxy.setMode({ kind: "pass" });
    expect(await replies).toEqual([1, 2]);
    expect(await redis.get(key)).toBe("2");
  });
});

describe("fault proxy: stalled connections", () => {
  it("a stalled connection never answers, while a new one works", async () => {
    const proxy = await proxyTo();
    const stale = clientVia(proxy, { commandTimeout: 300, maxRetriesPerRequest: 0 });
    const key = uniqueKey("stalled");
    expect(await stale.client.set(key, "0")).toBe("OK");

    proxy.stallOpenConnections("to-client");
    await expect(stale.client.incr(key)).rejects.toThrow(/timed out/);
    expect(await redis.get(key)).toBe("1"); // the command ran, its reply is stuck
    const fresh = clientVia(proxy);
    expect(await fresh.client.incr(key)).toBe(2);
  });
});

describe("fault proxy: lifecycle", () => {
  it("close is idempotent, cuts connections, and the port can be reused", async () => {
    const proxy = await proxyTo();
    const socket = await rawClient(proxy);
    const closed = once(socket, "close");
    await Promise.all([proxy.close(), proxy.close()]);
    await closed;
    await expect(proxy.resetAfterNextRequest()).rejects.toThrow(/closed/);

    const again = await proxyTo(redisTarget, proxy.port);
    expect(again.port).toBe(proxy.port);
    const { client } = clientVia(again);
    expect(await client.ping()).toBe("PONG");
  });
});
