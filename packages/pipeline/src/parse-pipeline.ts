// The pipeline file from text to a frozen Pipeline, or one PipelineError that lists every
// problem with its file:line:col.
import { LineCounter, parseDocument } from "yaml";
import { PipelineError } from "./errors.js";
import { NodeReader } from "./node-reader.js";
import { readProcessors } from "./parse-processors.js";
import { readProxy } from "./parse-proxy.js";
import { readRoutes } from "./parse-routes.js";
import { NO_PROXY } from "./proxy-types.js";
import type { Pipeline } from "./types.js";

const TOP_KEYS = ["routes", "processors", "proxy"] as const;

/**
 * `source` is the file's path: problems name it, and `module:` paths resolve against its
 * directory. `${NAME}` in string values takes env[NAME].
 */
export function parsePipeline(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Pipeline {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const reader = new NodeReader(source, lineCounter, doc, env);

  // A document with syntax errors is partly guessed; checking its shape would mostly
  // report echoes of the same mistake.
  if (doc.errors.length > 0) {
    for (const error of doc.errors) reader.report(error.pos[0], `YAML: ${error.message}`);
    throw new PipelineError(reader.problems());
  }

  const top = doc.contents;
  if (top === null) {
    throw new PipelineError([`${source}:1:1: the file is empty; it needs a routes: list`]);
  }
  const fields = reader.mapping(top, "the top level", TOP_KEYS);
  if (fields === undefined) throw new PipelineError(reader.problems());

  const routesNode = reader.required(fields, "routes", top, "the pipeline file");
  const routes = routesNode
    ? readRoutes(reader, routesNode)
    : { routes: [], names: new Set<string>() };
  const processorsNode = fields.get("processors")?.value;
  const processors = processorsNode ? readProcessors(reader, processorsNode, routes) : [];
  const proxyNode = fields.get("proxy")?.value;
  const proxy = proxyNode ? readProxy(reader, proxyNode) : NO_PROXY;

  if (reader.problemCount > 0) throw new PipelineError(reader.problems());
  return Object.freeze({
    source,
    routes: Object.freeze([...routes.routes]),
    processors: Object.freeze(processors),
    proxy,
  });
}
