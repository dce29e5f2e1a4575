// Event type -> route, on the collector's hot path: once per event.
import { PipelineError } from "./errors.js";
import { MISSING_DEFAULT_ROUTE } from "./parse-routes.js";
import { PIPELINE_DEFAULTS, type Route } from "./types.js";

export interface Router {
  routeFor(type: string): Route;
  readonly routes: readonly Route[];
}

/** Enough for every real type set; a flood of random types only costs a clear now and then. */
const CACHE_LIMIT = 10_000;

export function createRouter(routes: readonly Route[]): Router {
  const fallback = routes.find((route) => route.name === PIPELINE_DEFAULTS.defaultRoute);
  if (fallback === undefined) throw new PipelineError([MISSING_DEFAULT_ROUTE]);
  const checks = routes.map((route) => ({ route, matches: compilePatterns(route.types) }));
  const cache = new Map<string, Route>();

  return Object.freeze({
    routes: Object.freeze([...routes]),
    routeFor(type: string): Route {
      const cached = cache.get(type);
      if (cached !== undefined) return cached;
      const route = checks.find((check) => check.matches(type))?.route ?? fallback;
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(type, route);
      return route;
    },
  });
}

/** One check for all of a route's patterns: exact ones by Set lookup, then the wildcards. */
export function compilePatterns(patterns: readonly string[]): (type: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !pattern.includes("*")));
  const wildcards = patterns.filter((pattern) => pattern.includes("*"));
  if (wildcards.some((pattern) => /^\*+$/.test(pattern))) return () => true;
  const globs = wildcards.map(compileGlob);
  if (globs.length === 0) return (type) => exact.has(type);
  return (type) => exact.has(type) || globs.some((glob) => glob(type));
}

/**
 * `*` is any run of characters, the rest literal. Matched by prefix, suffix and indexOf rather
 * than a RegExp: a pattern like "*a*a*b" would make a backtracking regex take polynomial time
 * on a hostile type, while this takes one left-to-right pass (taking the earliest place for
 * each middle piece is always safe, since it leaves the most room for the rest).
 */
function compileGlob(pattern: string): (type: string) => boolean {
  const pieces = pattern.split("*");
  const head = pieces[0] ?? "";
  const tail = pieces[pieces.length - 1] ?? "";
  const middle = pieces.slice(1, -1).filter((piece) => piece.length > 0);
  const minLength = head.length + tail.length + middle.reduce((sum, p) => sum + p.length, 0);
  return (type) => {
    if (type.length < minLength || !type.startsWith(head) || !type.endsWith(tail)) return false;
    const end = type.length - tail.length;
    let at = head.length;
    for (const piece of middle) {
      const found = type.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
