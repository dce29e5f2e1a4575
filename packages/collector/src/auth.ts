// Bearer-token authentication for the collector's RPCs (health stays open for probes).
//
// Tokens come from COLLECTOR_TOKENS (comma-separated) and/or COLLECTOR_TOKENS_FILE (one per
// line, # comments). Each entry is `name:secret` or `name:secret:Rpc1|Rpc2`; the name is
// what logs show, the optional list limits the token to those RPCs. Secrets are compared as
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
      "entries of the form name:secret[:Rpc|Rpc], secrets of 16+ characters",
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

/** Checks the `authorization: Bearer <token>` metadata of a call to `method`. */
export function authenticate(
  tokens: readonly TokenEntry[],
  metadata: Metadata,
  method: string,
): AuthOutcome {
  if (tokens.length === 0) return { ok: true, name: undefined };
  const header = metadata.get("authorization")[0];
  const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (match === null) {
    return {
      ok: false,
      code: status.UNAUTHENTICATED,
      details: "missing or malformed authorization metadata: send `authorization: Bearer <token>`",
    };
  }
  const presented = digest(match[1]!);
  let found: TokenEntry | undefined;
  for (const entry of tokens) {
    // No early exit: every entry is compared whatever matched.
    if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry;
  }
  if (found === undefined) {
    return { ok: false, code: status.UNAUTHENTICATED, details: "unknown token" };
  }
  if (found.methods !== undefined && !found.methods.has(method)) {
    return {
      ok: false,
      code: status.PERMISSION_DENIED,
      details: `token "${found.name}" may not call ${method}`,
    };
  }
  return { ok: true, name: found.name };
}
