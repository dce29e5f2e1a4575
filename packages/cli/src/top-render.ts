// From rows to the text of one `pnpm top` frame. Pure: the caller says whether to colour and
// how wide and tall the terminal is. Lines are cut to the width (ending in "…") rather than
// wrapped, so a narrow terminal shows the left columns, the names and counts people look at.
import type { CollectorRow, QueueRow, TopView, WorkerRow } from "./top-model.js";

export type Style = "title" | "heading" | "muted" | "warn" | "bad";

interface Segment {
  readonly text: string;
  readonly style?: Style;
}
type Line = readonly Segment[];

export interface FrameOptions {
  readonly colour: boolean;
  /** Columns available; Infinity: no cut (output to a file or pipe). */
  readonly width: number;
  /** Rows available; Infinity: no cut. */
  readonly height: number;
  /** The first line: what is watched, how often, when. */
  readonly header: string;
  /** A line under the header, such as Redis being unreachable. */
  readonly status?: Segment;
}

/** An oldest pending event this old is shown as a warning, then as trouble. */
export const OLDEST_WARN_MS = 10_000;
export const OLDEST_BAD_MS = 60_000;
/** Longest name (queue, worker, collector id) shown whole. */
const NAME_CHARS = 48;

const SGR: Record<Style, string> = {
  title: "\x1b[1m",
  heading: "\x1b[7m",
  muted: "\x1b[2m",
  warn: "\x1b[33m",
  bad: "\x1b[1;31m",
};
const RESET = "\x1b[0m";

/** Events per second: one decimal below 10, whole above; "-" when there is no rate yet. */
export function formatRate(rate: number | undefined): string {
  if (rate === undefined) return "-";
  if (rate === 0) return "0";
  return rate < 10 ? rate.toFixed(1) : Math.round(rate).toString();
}

/** 0.4s, 12s, 5m02s, 3h07m, 2d04h; "-" when nothing is pending. */
export function formatAge(ms: number): string {
  if (ms <= 0) return "-";
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const two = (n: number) => n.toString().padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
}

function shorten(text: string, chars: number): string {
  const points = [...text];
  return points.length <= chars ? text : `${points.slice(0, Math.max(0, chars - 1)).join("")}…`;
}

interface Column<Row> {
  readonly heading: string;
  readonly left?: boolean;
  readonly cell: (row: Row) => Segment;
}

const plain = (text: string | number): Segment => ({ text: String(text) });
const flagged = (value: number, style: Style): Segment =>
  value > 0 ? { text: String(value), style } : plain(value);
const name = (text: string): Segment => plain(shorten(text, NAME_CHARS));

function table<Row>(columns: readonly Column<Row>[], rows: readonly Row[], empty: string): Line[] {
  const cells = rows.map((row) => columns.map((column) => column.cell(row)));
  const widths = columns.map((column, i) =>
    Math.max(column.heading.length, ...cells.map((line) => [...line[i]!.text].length)),
  );
  const pad = (text: string, i: number) =>
    columns[i]!.left ? text.padEnd(widths[i]!) : text.padStart(widths[i]!);
  const heading = columns.map((column, i) => pad(column.heading, i)).join("  ");
  const lines: Line[] = [[{ text: heading, style: "heading" }]];
  for (const line of cells) {
    const segments: Segment[] = [];
    line.forEach((segment, i) => {
      if (i > 0) segments.push(plain("  "));
      segments.push({ ...segment, text: pad(segment.text, i) });
    });
    // Padding after the last column would only make lines wider than they are.
    const last = segments.at(-1)!;
    segments[segments.length - 1] = { ...last, text: last.text.trimEnd() };
    lines.push(segments);
  }
  if (rows.length === 0) lines.push([{ text: empty, style: "muted" }]);
  return lines;
}

const QUEUE_COLUMNS: readonly Column<QueueRow>[] = [
  { heading: "QUEUE", left: true, cell: (row) => name(row.queue) },
  { heading: "PENDING", cell: (row) => plain(row.pending) },
  { heading: "IN FLIGHT", cell: (row) => plain(row.inFlight) },
  {
    heading: "OLDEST",
    cell: (row) => {
      const text = formatAge(row.oldestPendingAgeMs);
      if (row.oldestPendingAgeMs >= OLDEST_BAD_MS) return { text, style: "bad" };
      return row.oldestPendingAgeMs >= OLDEST_WARN_MS ? { text, style: "warn" } : plain(text);
    },
  },
  { heading: "IN/s", cell: (row) => plain(formatRate(row.inRate)) },
  { heading: "OUT/s", cell: (row) => plain(formatRate(row.outRate)) },
  { heading: "PROCESSED", cell: (row) => plain(row.processed) },
  { heading: "RETRYING", cell: (row) => flagged(row.retriesWaiting, "warn") },
  { heading: "RETRIED", cell: (row) => plain(row.retried) },
  { heading: "DEAD", cell: (row) => flagged(row.deadLetters, "bad") },
  {
    heading: "WORKERS",
    // Events waiting and nobody to take them: the one case worth shouting about here.
    cell: (row) =>
      row.liveWorkers === 0 && row.pending > 0
        ? { text: "0", style: "bad" }
        : plain(row.liveWorkers),
  },
];

const WORKER_COLUMNS: readonly Column<WorkerRow>[] = [
  { heading: "WORKER", left: true, cell: (row) => name(row.id) },
  { heading: "QUEUE", left: true, cell: (row) => name(row.queue) },
  { heading: "IN FLIGHT", cell: (row) => plain(row.inFlight) },
  { heading: "PROCESSED", cell: (row) => plain(row.processed) },
  {
    heading: "RATE/s",
    cell: (row) => (row.expired ? { text: "expired", style: "bad" } : plain(formatRate(row.rate))),
  },
];

const COLLECTOR_COLUMNS: readonly Column<CollectorRow>[] = [
  { heading: "COLLECTOR", left: true, cell: (row) => name(row.id) },
  { heading: "STREAMS", cell: (row) => plain(row.streams) },
  { heading: "BUFFERED", cell: (row) => plain(row.buffered) },
  { heading: "RECEIVED/s", cell: (row) => plain(formatRate(row.receivedRate)) },
  { heading: "ACCEPTED/s", cell: (row) => plain(formatRate(row.acceptedRate)) },
];

/** Cuts a line to `width` visible characters, the last one "…" when something was cut. */
export function fit(line: Line, width: number): Line {
  const total = line.reduce((sum, segment) => sum + [...segment.text].length, 0);
  if (total <= width) return line;
  let room = Math.max(0, width - 1);
  const out: Segment[] = [];
  for (const segment of line) {
    if (room === 0) break;
    const points = [...segment.text];
    out.push({ ...segment, text: points.slice(0, room).join("") });
    room -= Math.min(room, points.length);
  }
  if (width > 0) out.push(plain("…"));
  return out;
}

function paint(line: Line, colour: boolean): string {
  return line
    .map((segment) =>
      colour && segment.style !== undefined && segment.text !== ""
        ? `${SGR[segment.style]}${segment.text}${RESET}`
        : segment.text,
    )
    .join("");
}

/** The frame's lines, without line ends; no escape codes unless `options.colour`. */
export function renderFrame(view: TopView | undefined, options: FrameOptions): string[] {
  const lines: Line[] = [[{ text: options.header, style: "title" }]];
  if (options.status !== undefined) lines.push([options.status]);
  if (view !== undefined) {
    lines.push([]);
    lines.push(...table(QUEUE_COLUMNS, view.queues, "no queue"));
    lines.push([]);
    lines.push(...table(WORKER_COLUMNS, view.workers, "no live worker"));
    lines.push([]);
    lines.push(...table(COLLECTOR_COLUMNS, view.collectors, "no collector reporting"));
  }
  let shown = lines;
  if (lines.length > options.height) {
    const kept = Math.max(0, options.height - 1);
    const more = `… ${lines.length - kept} more lines (a taller terminal shows them)`;
    shown = [...lines.slice(0, kept), [{ text: more, style: "muted" }]];
  }
  return shown.map((line) => paint(fit(line, options.width), options.colour));
}
