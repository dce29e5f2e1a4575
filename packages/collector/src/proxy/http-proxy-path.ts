// Where a proxied request goes on the upstream: the path after the route's prefix, put after
// the upstream's base path and rewritePrefix, and the query string exactly as sent. Paths that
// would leave that base (`..` segments, also percent-encoded or with backslashes, or a `//`
// that an upstream may read as another host) are refused before anything is sent.

/** The request-target for the upstream, or undefined when the path must be refused. */
export function upstreamTarget(
  url: string,
  prefix: string,
  upstreamBase: string,
): string | undefined {
  // The router matched the prefix; a raw URL that spells it differently (percent-encoded
  // letters, an absolute-form target) is refused rather than guessed at.
  if (!url.startsWith(prefix)) return undefined;
  const rest = url.slice(prefix.length);
  const queryAt = rest.indexOf("?");
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  if (path !== "" && path[0] !== "/") return undefined;
  if (climbsOut(path)) return undefined;
  const target = `${upstreamBase}${path}` || "/";
  if (target.startsWith("//")) return undefined;
  return queryAt < 0 ? target : `${target}${rest.slice(queryAt)}`;
}

function climbsOut(path: string): boolean {
  // The common path has nothing to decode and no dot: no segment can be "..".
  if (!path.includes(".") && !path.includes("%") && !path.includes("\\")) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return decoded.replaceAll("\\", "/").split("/").includes("..");
}
