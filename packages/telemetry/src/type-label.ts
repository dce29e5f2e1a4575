// Event types as a metric label, bounded: a type counts under its own name only when the
// operator named it (ALLOWED_EVENT_TYPES, or a route's literal type); every other type is
// "other", so a client sending random types cannot create unbounded series.
import type { Route } from "@eventpipe/pipeline";

export const OTHER_TYPE = "other";

export type TypeLabel = (type: string) => string;

export function createTypeLabel(
  allowedTypes: readonly string[],
  routes: readonly Route[] = [],
): TypeLabel {
  const named = new Set(allowedTypes);
  for (const route of routes) {
    for (const pattern of route.types) if (!pattern.includes("*")) named.add(pattern);
  }
  return (type) => (named.has(type) ? type : OTHER_TYPE);
}
