// `pnpm top`'s frames: aligned columns, figures formatted for people, colour only when asked,
// lines cut (not wrapped) to the terminal's width and frames to its height.
import { describe, expect, it } from "vitest";
import type { TopView } from "../src/top-model.js";
import { fit, formatAge, formatRate, renderFrame } from "../src/top-render.js";

const ESC = "\x1b";

const view: TopView = {
  queues: [
    {
      queue: "orders",
      pending: 1200,
      inFlight: 64,
      oldestPendingAgeMs: 75_000,
      inRate: 2000,
      outRate: 1950.4,
      processed: 123_456,
      retriesWaiting: 3,
      retried: 17,
      deadLetters: 2,
      liveWorkers: 2,
    },
    {
      queue: "audit",
      pending: 5,
      inFlight: 0,
      oldestPendingAgeMs: 300,
      inRate: undefined,
      outRate: 0,
      processed: 0,
      retriesWaiting: 0,
      retried: 0,
      deadLetters: 0,
      liveWorkers: 0,
    },
  ],
  workers: [
    {
      id: "host-1-aaaaaa",
      queue: "orders",
      inFlight: 64,
      processed: 100_000,
      rate: 1500,
      expired: false,
    },
    {
      id: "host-2-bbbbbb",
      queue: "orders",
      inFlight: 0,
      processed: 23_456,
      rate: 4.25,
      expired: true,
    },
  ],
  collectors: [],
};

const frame = (options: Partial<Parameters<typeof renderFrame>[1]> = {}) =>
  renderFrame(view, {
    colour: false,
    width: Number.POSITIVE_INFINITY,
    height: Number.POSITIVE_INFINITY,
    header: "eventpipe top  redis://localhost:6379",
    ...options,
  });

describe("top render", () => {
  it("lays out one row per queue, worker and collector under right-aligned headings", () => {
    expect(frame().join("\n")).toBe(
      [
        "eventpipe top  redis://localhost:6379",
        "",
        "QUEUE   PENDING  IN FLIGHT  OLDEST  IN/s  OUT/s  PROCESSED  RETRYING  RETRIED  DEAD  WORKERS",
        "orders     1200         64   1m15s  2000   1950     123456         3       17     2        2",
        "audit         5          0    0.3s     -      0          0         0        0     0        0",
        "",
        "WORKER         QUEUE   IN FLIGHT  PROCESSED   RATE/s",
        "host-1-aaaaaa  orders         64     100000     1500",
        "host-2-bbbbbb  orders          0      23456  expired",
        "",
        "COLLECTOR  STREAMS  BUFFERED  RECEIVED/s  ACCEPTED/s",
        "no collector reporting",
      ].join("\n"),
    );
  });

  it("uses no escape code without colour, and marks trouble with colour", () => {
    expect(frame().join("\n")).not.toContain(ESC);
    const coloured = frame({ colour: true }).join("\n");
    // Dead letters, the age past a minute, no worker for pending events: bold red.
    expect(coloured).toContain(`${ESC}[1;31m   2${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[1;31m 1m15s${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[1;31m      0${ESC}[0m`);
    // Retries waiting: yellow.
    expect(coloured).toContain(`${ESC}[33m       3${ESC}[0m`);
    // Without the codes, the same text.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, "")).toBe(frame().join("\n"));
  });

  it("cuts lines to the width with an ellipsis, colour codes not counted", () => {
    for (const colour of [false, true]) {
      const lines = frame({ colour, width: 30 });
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      const visible = lines.map((line) => line.replace(/\x1b\[[0-9;]*m/g, ""));
      expect(visible.every((line) => [...line].length <= 30)).toBe(true);
      expect(visible[2]).toBe("QUEUE   PENDING  IN FLIGHT  O…");
      expect(visible[3]).toBe("orders     1200         64   …");
    }
    expect(fit([{ text: "abc" }, { text: "def" }], 4)).toEqual([{ text: "abc" }, { text: "…" }]);
    expect(fit([{ text: "abc" }], 3)).toEqual([{ text: "abc" }]);
    expect(fit([{ text: "abc" }], 0)).toEqual([]);
  });

  it("cuts the frame to the height and says how much is below", () => {
    const lines = frame({ height: 5 });
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe("… 8 more lines (a taller terminal shows them)");
  });

  it("shows a status line, and only the header and status before the first reading", () => {
    const status = {
      text: "Redis unreachable at redis://x:1: ECONNREFUSED",
      style: "bad" as const,
    };
    expect(renderFrame(undefined, { ...frameOptions(), status })).toEqual([
      "top",
      "Redis unreachable at redis://x:1: ECONNREFUSED",
    ]);
  });

  it("formats rates and ages for people", () => {
    expect([undefined, 0, 0.25, 9.94, 10.4, 1999.6].map(formatRate)).toEqual([
      "-",
      "0",
      "0.3",
      "9.9",
      "10",
      "2000",
    ]);
    expect(
      [0, 420, 9_949, 59_999, 302_000, 3 * 3600_000 + 7 * 60_000, 50 * 3600_000].map(formatAge),
    ).toEqual(["-", "0.4s", "9.9s", "59s", "5m02s", "3h07m", "2d02h"]);
  });
});

function frameOptions() {
  return {
    colour: false,
    width: Number.POSITIVE_INFINITY,
    height: Number.POSITIVE_INFINITY,
    header: "top",
  };
}
