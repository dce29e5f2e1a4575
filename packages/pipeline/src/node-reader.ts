// Reads typed values out of a parsed YAML document and collects a problem, with the file:line:col
// of the node at fault, for each value it refuses. Readers return undefined on a problem and
// go on, so one run reports every mistake in the file instead of the first.
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type ParsedNode,
} from "yaml";
import { substituteEnv } from "./env-substitution.js";

export interface Field {
  /** The key node: where "has no value" problems point. */
  readonly key: Node;
  /** undefined when the key has no value (`key:` or `key: null`). */
  readonly value: Node | undefined;
}
export type Fields = ReadonlyMap<string, Field>;

type At = Node | number | undefined;

export class NodeReader {
  private readonly found: { offset: number; text: string }[] = [];

  constructor(
    readonly source: string,
    private readonly lineCounter: LineCounter,
    private readonly doc: Document.Parsed,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get problemCount(): number {
    return this.found.length;
  }

  /** Problems in file order, whatever order the checks ran in. */
  problems(): string[] {
    return [...this.found].sort((a, b) => a.offset - b.offset).map((p) => p.text);
  }

  report(at: At, problem: string): undefined {
    const offset = offsetOf(at);
    const { line, col } = this.lineCounter.linePos(offset);
    this.found.push({ offset, text: `${this.source}:${line}:${col}: ${problem}` });
    return undefined;
  }

  line(at: At): number {
    return this.lineCounter.linePos(offsetOf(at)).line;
  }

  /** A mapping whose keys are all in `allowed` (any key when allowed is undefined). */
  mapping(node: Node, what: string, allowed?: readonly string[]): Fields | undefined {
    const map = this.resolve(node);
    if (!isMap(map)) {
      const keys = allowed === undefined ? "" : ` with keys ${allowed.join(", ")}`;
      return this.report(node, `${what} must be a mapping${keys}`);
    }
    const fields = new Map<string, Field>();
    for (const pair of map.items) {
      const key = pair.key as Node;
      if (!isScalar(key) || typeof key.value !== "string") {
        this.report(key, `keys in ${what} must be plain names`);
        continue;
      }
      if (allowed !== undefined && !allowed.includes(key.value)) {
        this.report(key, `unknown key "${key.value}" in ${what}; allowed: ${allowed.join(", ")}`);
        continue;
      }
      const value = this.resolve(pair.value as Node | null);
      const empty = value === undefined || (isScalar(value) && value.value === null);
      fields.set(key.value, { key, value: empty ? undefined : value });
    }
    return fields;
  }

  /** The value of a key that must be there and not be empty. */
  required(fields: Fields, key: string, owner: Node, what: string): Node | undefined {
    const field = fields.get(key);
    if (field === undefined) return this.report(owner, `${what} needs "${key}"`);
    if (field.value === undefined) return this.report(field.key, `"${key}" has no value`);
    return field.value;
  }

  list(
    node: Node,
    label: string,
    example: string,
    { allowEmpty = false } = {},
  ): Node[] | undefined {
    const seq = this.resolve(node);
    if (!isSeq(seq)) return this.report(node, `${label} must be a list, e.g. ${example}`);
    if (seq.items.length === 0 && !allowEmpty) {
      return this.report(node, `${label} must not be empty`);
    }
    return seq.items.map((item) => this.resolve(item as Node) ?? seq);
  }

  /** A string scalar with ${NAME} references replaced from the environment. */
  string(node: Node, label: string): string | undefined {
    const scalar = this.resolve(node);
    if (!isScalar(scalar) || typeof scalar.value !== "string") {
      if (isScalar(scalar) && scalar.value !== null) {
        const shown = String(scalar.value);
        return this.report(node, `${label} must be a string, not ${shown}: quote it ("${shown}")`);
      }
      return this.report(node, `${label} must be a string`);
    }
    const substituted = substituteEnv(scalar.value, this.env);
    if (substituted.problems !== undefined) {
      for (const problem of substituted.problems) this.report(node, `${label}: ${problem}`);
      return undefined;
    }
    return substituted.value;
  }

  nonEmptyString(node: Node, label: string): string | undefined {
    const value = this.string(node, label);
    if (value === "") return this.report(node, `${label} must not be empty`);
    return value;
  }

  integer(node: Node, label: string, min: number, max: number): number | undefined {
    const scalar = this.resolve(node);
    const value = isScalar(scalar) ? scalar.value : undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      const shown = isScalar(scalar) ? `, got ${JSON.stringify(scalar.value)}` : "";
      return this.report(node, `${label} must be an integer from ${min} to ${max}${shown}`);
    }
    return value;
  }

  boolean(node: Node, label: string): boolean | undefined {
    const scalar = this.resolve(node);
    if (!isScalar(scalar) || typeof scalar.value !== "boolean") {
      return this.report(node, `${label} must be true or false`);
    }
    return scalar.value;
  }

  /** Follows `*alias` to its anchored node, so anchors work like plain copies. */
  private resolve(node: Node | null | undefined): Node | undefined {
    if (node === null || node === undefined) return undefined;
    return isAlias(node) ? (node.resolve(this.doc) ?? node) : node;
  }
}

function offsetOf(at: At): number {
  if (typeof at === "number") return at;
  return (at as ParsedNode | undefined)?.range?.[0] ?? 0;
}
