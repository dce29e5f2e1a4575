// Bearer-token authentication for the collector's RPCs and HTTP routes (health stays open).
//
// Tokens come from COLLECTOR_TOKENS (comma-separated) and/or COLLECTOR_TOKENS_FILE (one per
// line, # comments). Each entry is `name:secret` or `name:secret:limit1|limit2`; the name is
// what logs show, the optional list limits the token to scopes (`ingest`: every way of sending
// events, gRPC and HTTP; `schemas`: the schema registry; `proxy`: calls forwarded to the master
// API) or single RPCs (`StreamEvents`). Secrets are compared as
// SHA-256 digests with timingSafeEqual against every configured token, so the time taken
// says nothing about how much of a guess was right.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, type Env, readOptionalString } from "@eventpipe/queue";
import { type Metadata, status } from "@grpc/grpc-js";

export interface TokenEntry {
  readonly name: string;
  readonly digest: Buffer;
  /** Undefined: every RPC. */
  readonly methods: ReadonlySet<string> | undefined;
}

export type AuthOutcome =
  | { readonly ok: true; readonly name: string | undefined }
  | { readonly ok: false; readonly code: status; readonly details: string };

const digest = (secret: string) => createHash("sha256").update(secret).digest();

function parseEntry(entry: string, variable: string): TokenEntry {
  const [name, secret, methods] = entry.split(":");
  if (!name || !secret || secret.length < 16) {
    throw new ConfigError(
      variable,
      "***",
      "entries of the form name:secret[:scope|Rpc...], secrets of 16+ characters",
    );
  }
  return {
    name,
    digest: digest(secret),
    methods: methods ? new Set(methods.split("|").map((m) => m.trim())) : undefined,
  };
}

export function readTokens(env: Env): readonly TokenEntry[] {
  const entries: TokenEntry[] = [];
  const inline = readOptionalString(env, "COLLECTOR_TOKENS");
  for (const entry of inline?.split(",") ?? []) {
    if (entry.trim()) entries.push(parseEntry(entry.trim(), "COLLECTOR_TOKENS"));
  }
  const file = readOptionalString(env, "COLLECTOR_TOKENS_FILE");
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new ConfigError(
        "COLLECTOR_TOKENS_FILE",
        file,
        `a readable file (${(error as Error).message})`,
      );
    }
    for (const line of text.split("\n")) {
      const entry = line.replace(/#.*/, "").trim();
      if (entry) entries.push(parseEntry(entry, "COLLECTOR_TOKENS_FILE"));
    }
  }
  return Object.freeze(entries);
}

/** What a token may be limited to: a scope, or the name of one RPC. */
export type Scope = "ingest" | "schemas" | "proxy" | "admin";

export type Authorization =
  | { readonly ok: true; readonly name: string | undefined }
  | {
      readonly ok: false;
      /** No valid token (401 / UNAUTHENTICATED), or a token not allowed here (403 / PERMISSION_DENIED). */
      readonly problem: "unauthenticated" | "forbidden";
      readonly details: string;
    };

/**
 * Checks an `authorization: Bearer <token>` header for an action (`name`, such as an RPC or
 * "POST /v1/events", in `scope`). A token limited to a list may name the scope or the action.
 */
export function authorize(
  tokens: readonly TokenEntry[],
  header: string | undefined,
  action: { readonly name: string; readonly scope: Scope },
): Authorization {
  if (tokens.length === 0) return { ok: true, name: undefined };
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) {
    return {
      ok: false,
      problem: "unauthenticated",
      details: "missing or malformed authorization: send `authorization: Bearer <token>`",
    };
  }
  const presented = digest(match[1]!);
  let found: TokenEntry | undefined;
  for (const entry of tokens) {
    // No early exit: every entry is compared whatever matched.
    if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry;
  }
  if (found === undefined)
    return { ok: false, problem: "unauthenticated", details: "unknown token" };
  if (
    found.methods !== undefined &&
    !found.methods.has(action.name) &&
    !found.methods.has(action.scope)
  ) {
    return {
      ok: false,
      problem: "forbidden",
      details: `token "${found.name}" may not call ${action.name}`,
    };
  }
  return { ok: true, name: found.name };
}

/** authorize() for a gRPC call (an ingest RPC unless told otherwise), as a gRPC status. */
export function authenticate(
  tokens: readonly TokenEntry[],
  metadata: Metadata,
  method: string,
  scope: Scope = "ingest",
): AuthOutcome {
  const header = metadata.get("authorization")[0];
  const outcome = authorize(tokens, typeof header === "string" ? header : undefined, {
    name: method,
    scope,
  });
  if (outcome.ok) return outcome;
  const code = outcome.problem === "forbidden" ? status.PERMISSION_DENIED : status.UNAUTHENTICATED;
  return { ok: false, code, details: outcome.details };
}
