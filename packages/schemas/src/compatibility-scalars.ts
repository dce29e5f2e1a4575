// Compatibility of the keywords that restrict numbers and strings, and of the size limits
// that strings, arrays and objects share.
import type { Comparison } from "./compatibility.js";
import type { JsonType } from "./compatibility-values.js";

type Schema = Record<string, unknown>;

function numberAt(schema: Schema, keyword: string): number | undefined {
  const value = schema[keyword];
  return typeof value === "number" ? value : undefined;
}

/** minLength/maxLength, minItems/maxItems, minProperties/maxProperties. */
export function compareSizes(
  c: Comparison,
  w: Schema,
  r: Schema,
  path: string,
  keywords: readonly [min: string, max: string],
  what: readonly [values: string, unit: string],
): void {
  const [min, max] = keywords;
  const [values, unit] = what;
  const wMin = numberAt(w, min) ?? 0;
  const rMin = numberAt(r, min) ?? 0;
  if (rMin > wMin) {
    c.report(
      `${path}/${min}`,
      "constraint-tightened",
      `${min} is ${rMin} in ${c.reader}, ${wMin} in ${c.writer}: ${values} with fewer than ${rMin} ${unit} would be rejected`,
    );
  }
  const wMax = numberAt(w, max);
  const rMax = numberAt(r, max);
  if (rMax !== undefined && (wMax === undefined || rMax < wMax)) {
    c.report(
      `${path}/${max}`,
      "constraint-tightened",
      `${max} is ${rMax} in ${c.reader}, ${wMax ?? "not set"} in ${c.writer}: ${values} with more than ${rMax} ${unit} would be rejected`,
    );
  }
}

interface Bound {
  readonly keyword: string;
  readonly shown: number;
  /** The bound compared: with integers only, an exclusive bound becomes the next integer. */
  readonly value: number;
  readonly exclusive: boolean;
}

/** The tighter of minimum/exclusiveMinimum (side "min") or maximum/exclusiveMaximum. */
function bound(schema: Schema, side: "min" | "max", integers: boolean): Bound | undefined {
  const names = side === "min" ? ["minimum", "exclusiveMinimum"] : ["maximum", "exclusiveMaximum"];
  let tightest: Bound | undefined;
  for (const keyword of names) {
    const shown = numberAt(schema, keyword);
    if (shown === undefined) continue;
    let exclusive = keyword.startsWith("exclusive");
    let value = shown;
    if (integers) {
      // Only integers pass, so x > 2 is x >= 3 and x >= 2.5 is x >= 3 as well.
      if (side === "min") value = exclusive ? Math.floor(shown) + 1 : Math.ceil(shown);
      else value = exclusive ? Math.ceil(shown) - 1 : Math.floor(shown);
      exclusive = false;
    }
    const candidate = { keyword, shown, value, exclusive };
    if (tightest === undefined || tighter(candidate, tightest, side)) tightest = candidate;
  }
  return tightest;
}

function tighter(a: Bound, b: Bound, side: "min" | "max"): boolean {
  if (a.value === b.value) return a.exclusive && !b.exclusive;
  return side === "min" ? a.value > b.value : a.value < b.value;
}

export function compareNumbers(
  c: Comparison,
  types: ReadonlySet<JsonType>,
  w: Schema,
  r: Schema,
  path: string,
): void {
  const integers = !types.has("number");
  for (const side of ["min", "max"] as const) {
    const rBound = bound(r, side, integers);
    if (rBound === undefined) continue;
    const wBound = bound(w, side, integers);
    if (wBound !== undefined && !tighter(rBound, wBound, side)) continue;
    const was = wBound === undefined ? "none" : `${wBound.keyword} ${wBound.shown}`;
    c.report(
      `${path}/${rBound.keyword}`,
      "constraint-tightened",
      `${rBound.keyword} is ${rBound.shown} in ${c.reader}, ${c.writer} has ${was}: ${side === "min" ? "smaller" : "larger"} numbers would be rejected`,
    );
  }
  const divisor = numberAt(r, "multipleOf");
  if (divisor === undefined || (integers && Number.isInteger(1 / divisor))) return;
  const wDivisor = numberAt(w, "multipleOf");
  if (wDivisor !== undefined && isMultiple(wDivisor, divisor)) return;
  c.report(
    `${path}/multipleOf`,
    "constraint-tightened",
    `${c.reader} only accepts multiples of ${divisor}, ${c.writer} ${wDivisor === undefined ? "any number" : `multiples of ${wDivisor}`}`,
  );
}

function isMultiple(value: number, divisor: number): boolean {
  const quotient = value / divisor;
  return Math.abs(quotient - Math.round(quotient)) < 1e-9;
}

export function compareStrings(c: Comparison, w: Schema, r: Schema, path: string): void {
  compareSizes(c, w, r, path, ["minLength", "maxLength"], ["strings", "characters"]);
  if (r.pattern !== undefined && r.pattern !== w.pattern) {
    c.report(
      `${path}/pattern`,
      "constraint-tightened",
      `${c.reader} requires strings to match ${JSON.stringify(r.pattern)}, ${c.writer} ${w.pattern === undefined ? "has no pattern" : `requires ${JSON.stringify(w.pattern)}`}: strings that do not match would be rejected`,
    );
  }
}

/** Formats are asserted (Ajv validates them), so a new or different format narrows. */
export function compareFormat(c: Comparison, w: Schema, r: Schema, path: string): void {
  if (r.format === undefined || r.format === w.format) return;
  c.report(
    `${path}/format`,
    "constraint-tightened",
    `${c.reader} requires format ${JSON.stringify(r.format)}, ${c.writer} ${w.format === undefined ? "no format" : `format ${JSON.stringify(w.format)}`}: values not in that format would be rejected`,
  );
}
