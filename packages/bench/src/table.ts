// Medians, spreads and the Markdown table the README shows.

export interface Row {
  readonly section: string;
  readonly name: string;
  readonly unit: string;
  readonly samples: readonly number[];
  /** Ours over a reference measured in the same run, with the target when there is one. */
  readonly ratio?: {
    readonly value: number;
    readonly of: string;
    /** Met when value >= target. */
    readonly target?: number;
    /** How the target reads when `>= <target>x` would not say it well: "<= 20% slower". */
    readonly targetText?: string;
  };
  /** An absolute target (for seconds, MiB, ms: lower is better). */
  readonly limit?: { readonly max: number };
  readonly extra?: string;
  /** The figures behind `extra`, for the JSON output (the table shows `extra`). */
  readonly details?: Readonly<Record<string, number>>;
}

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "s" || unit === "ms" || unit === "MiB") return value.toFixed(value < 10 ? 2 : 1);
  return Math.round(value).toLocaleString("en");
}

function verdict(row: Row): string {
  const m = median(row.samples);
  if (row.limit !== undefined)
    return m < row.limit.max
      ? `met (< ${row.limit.max} ${row.unit})`
      : `MISSED (< ${row.limit.max} ${row.unit})`;
  if (row.ratio?.target !== undefined) {
    const target = row.ratio.targetText ?? `>= ${row.ratio.target}x`;
    return row.ratio.value >= row.ratio.target ? `met (${target})` : `MISSED (${target})`;
  }
  return "";
}

/** The table's section order; rows keep their order within a section. */
const SECTIONS = [
  "ceiling",
  "BullMQ",
  "ingest",
  "drain",
  "I/O",
  "end to end",
  "memory",
  "latency",
  "processors",
  "fan-out",
  "proxy",
  "cluster",
];

/** Rows of every measured group, ordered by section (stable within one). */
export function bySection(rows: readonly Row[]): Row[] {
  const rank = (row: Row) => {
    const index = SECTIONS.indexOf(row.section);
    return index < 0 ? SECTIONS.length : index;
  };
  return [...rows].sort((a, b) => rank(a) - rank(b));
}

export function renderTable(rows: readonly Row[]): string {
  const lines = [
    "| section | measure | median | spread (min-max) | ratio | target |",
    "| --- | --- | ---: | --- | --- | --- |",
  ];
  for (const row of rows) {
    const spread =
      row.samples.length > 1
        ? `${format(Math.min(...row.samples), row.unit)} - ${format(Math.max(...row.samples), row.unit)}`
        : "";
    const ratio = [row.ratio && `${row.ratio.value.toFixed(2)}x ${row.ratio.of}`, row.extra]
      .filter(Boolean)
      .join("; ");
    lines.push(
      `| ${row.section} | ${row.name} | ${format(median(row.samples), row.unit)} ${row.unit} | ${spread} | ${ratio} | ${verdict(row)} |`,
    );
  }
  return lines.join("\n");
}
