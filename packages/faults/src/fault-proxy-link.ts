// One proxied connection (Link) and its two directions (Pipe): what the fault proxy does to
// the bytes of each, in order, with backpressure.
import type { Socket } from "node:net";
import { createConnection } from "node:net";
import type { FaultDirection, FaultMode, FaultProxyTarget } from "./fault-proxy.js";

/** Bytes a latency queue may hold before the proxy stops reading the sender. */
const MAX_QUEUED_BYTES = 1024 * 1024;

export type WriteCallback = (error?: Error | null) => void;
interface Queued {
  readonly chunk: Buffer;
  readonly due: number;
  readonly written: WriteCallback | undefined;
}

/** What a link needs from the proxy that owns it. */
export interface LinkOwner {
  readonly mode: FaultMode;
  /** Called for each chunk bound for the target: dooms its link if a reset is armed. */
  takeArmed(link: Link): WriteCallback | undefined;
  forget(link: Link): void;
}

/** Resets a socket; one still connecting has no connection to reset and is just destroyed. */
export function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/** One client connection and its connection to the target. */
export class Link {
  target: Socket | undefined;
  down: Pipe | undefined;
  readonly up: Pipe;
  /** Set once the link is to be reset: nothing more is forwarded either way. */
  doomed = false;
  /** Directions that deliver nothing for good (stallOpenConnections). */
  stalled: FaultDirection | "both" | undefined;

  constructor(
    readonly proxy: LinkOwner,
    readonly client: Socket,
  ) {
    client.setNoDelay(true);
    this.up = new Pipe(this, "to-target", client);
    this.watch(client, this.up);
    client.on("drain", () => this.down?.pump());
  }

  connect(target: FaultProxyTarget): void {
    const socket = createConnection({ host: target.host, port: target.port, allowHalfOpen: true });
    socket.on("error", () => {});
    socket.setNoDelay(true);
    this.target = socket;
    this.up.to = socket;
    this.down = new Pipe(this, "to-client", socket, this.client);
    this.watch(socket, this.down);
    socket.on("drain", () => this.up.pump());
    this.up.pump();
  }

  reset(): void {
    this.doomed = true;
    reset(this.client);
    if (this.target) reset(this.target);
  }

  // A FIN or RST travels like data: it is passed on after the chunks queued before it, and
  // held back while its direction is held (blackhole, half-open), so that the peer does not
  // notice the close until the fault is lifted, resetAll() or close().
  private watch(socket: Socket, pipe: Pipe): void {
    socket.on("data", (chunk: Buffer) => pipe.push(chunk));
    socket.on("end", () => {
      pipe.eof ??= "end";
      pipe.pump();
    });
    socket.on("close", () => {
      pipe.eof ??= "reset";
      pipe.pump();
      if (this.client.destroyed && (!this.target || this.target.destroyed)) {
        this.proxy.forget(this);
      }
    });
  }
}

/** One direction of a link: an ordered queue of chunks, each released when it is due. */
class Pipe {
  /** How the sender's stream ended, passed on once the queue has drained. */
  eof: "end" | "reset" | undefined;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: Link,
    private readonly direction: FaultDirection,
    private readonly from: Socket,
    public to?: Socket,
  ) {}

  push(chunk: Buffer): void {
    if (this.link.doomed) return;
    const mode = this.link.proxy.mode;
    const delay = mode.kind === "latency" ? mode.ms : 0;
    const written =
      this.direction === "to-target" ? this.link.proxy.takeArmed(this.link) : undefined;
    this.queue.push({ chunk, due: Date.now() + delay, written });
    this.queuedBytes += chunk.length;
    this.pump();
  }

  /** Writes what is due, schedules the rest, passes on the end, and paces the sender. */
  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const to = this.to;
    const gone = to !== undefined && (to.destroyed || to.writableEnded);
    if (gone) this.discard();
    const held = this.held();
    if (to !== undefined && !gone && !held) {
      const now = Date.now();
      let head = this.queue[0];
      while (head && head.due <= now && !to.writableNeedDrain) {
        this.queue.shift();
        this.queuedBytes -= head.chunk.length;
        to.write(head.chunk, head.written);
        head = this.queue[0];
      }
      if (head && head.due > now) this.timer = setTimeout(() => this.pump(), head.due - now);
      else if (!head && this.eof === "end") to.end();
      else if (!head && this.eof === "reset") reset(to);
    }
    if (this.from.destroyed) return;
    // Held traffic waits in the sender's socket; forwarded traffic is read only as fast as the
    // receiver takes it, so neither the socket buffer nor the latency queue grows unbounded.
    // Traffic for a receiver that is gone is read and thrown away.
    const full =
      !gone &&
      (held || to === undefined || to.writableNeedDrain || this.queuedBytes >= MAX_QUEUED_BYTES);
    if (full) this.from.pause();
    else this.from.resume();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.discard();
  }

  private held(): boolean {
    const mode = this.link.proxy.mode;
    const stalled = this.link.stalled;
    return (
      this.to === undefined ||
      stalled === "both" ||
      stalled === this.direction ||
      mode.kind === "blackhole" ||
      (mode.kind === "half-open" && mode.drop === this.direction)
    );
  }

  /** Chunks queued for a receiver that is gone (or a proxy that closes) are lost. */
  private discard(): void {
    const lost = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const item of lost) item.written?.(new Error("the request was dropped on its way"));
  }
}
