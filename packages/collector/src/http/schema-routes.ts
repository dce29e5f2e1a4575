// The schema registry over HTTP (/v1/schemas). Changes take the `schemas` scope; reads take any
// valid token. Registry errors become statuses in errors.ts: InvalidSchemaError 422,
// IncompatibleSchemaError 409 with the breaks, Redis trouble 503.
import { isCompatibilityMode } from "@eventpipe/schemas";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { DoorContext } from "./context.js";
import { badRequest, notFound } from "./errors.js";
import type { RegistryReadsAndWrites } from "./patient-registry.js";

type TypeParams = { type: string };

const read = { config: { access: "read" as const } };
const change = { config: { access: "schemas" as const } };

function requireBody(body: unknown, what: string): unknown {
  if (body === undefined) throw badRequest(`send ${what} as an application/json body`);
  return body;
}

/**
 * Registers `schema` as the type's next version: 201 when created, 200 when unchanged. This
 * collector enforces a new version before it answers (other collectors within their refresh
 * interval), so a client that registers and then sends through the same door is checked.
 */
export async function registerSchema(
  { schemas, core }: Pick<DoorContext, "schemas" | "core">,
  type: string,
  body: unknown,
  reply: FastifyReply,
) {
  const schema = requireBody(body, "the JSON Schema (draft 2020-12)");
  const { version, created } = await schemas.register(type, schema);
  if (created) {
    // Stored either way; a failed refresh is retried by the background refresh.
    await core.validators.refresh().catch((error: unknown) => {
      reply.log.warn({ err: (error as Error).message }, "refreshing schemas failed");
    });
  }
  return reply.code(created ? 201 : 200).send({ type, version, created });
}

/** The type's latest version with its mode and every version number; 404 when none. */
export async function latestSchema(schemas: RegistryReadsAndWrites, type: string) {
  const [record, compatibility, versions] = await Promise.all([
    schemas.get(type),
    schemas.getCompatibility(type),
    schemas.versions(type),
  ]);
  if (record === undefined) throw notFound(`no schema is registered for event type "${type}"`);
  return {
    type: record.type,
    version: record.version,
    schema: record.schema,
    registeredAtMs: record.registeredAtMs,
    compatibility,
    versions,
  };
}

export function schemaRoutes(context: DoorContext) {
  const { schemas } = context;
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: { prefix?: unknown } }>("/v1/schemas", read, async (request) => {
      const { prefix } = request.query;
      return { types: await schemas.listTypes(typeof prefix === "string" ? prefix : "") };
    });

    app.put<{ Params: TypeParams }>("/v1/schemas/:type", change, async (request, reply) =>
      registerSchema(context, request.params.type, request.body, reply),
    );

    app.get<{ Params: TypeParams }>("/v1/schemas/:type", read, async (request) =>
      latestSchema(schemas, request.params.type),
    );

    app.get<{ Params: TypeParams & { n: string } }>(
      "/v1/schemas/:type/versions/:n",
      read,
      async (request) => {
        const { type, n } = request.params;
        if (!/^[1-9]\d{0,9}$/.test(n)) {
          throw badRequest(`version must be a positive integer, got "${n.slice(0, 32)}"`);
        }
        const record = await schemas.get(type, Number(n));
        if (record === undefined) {
          throw notFound(`event type "${type}" has no schema version ${n}`);
        }
        return record;
      },
    );

    // Changes nothing, so reading is enough: producers may ask before they ship a change.
    app.post<{ Params: TypeParams }>("/v1/schemas/:type/compatibility", read, async (request) => {
      const candidate = requireBody(request.body, "the candidate JSON Schema");
      const report = await schemas.checkCompatibility(request.params.type, candidate);
      return {
        compatible: report.compatible,
        mode: report.mode,
        against: report.against ?? null,
        breaks: report.breaks,
      };
    });

    app.get<{ Params: TypeParams }>("/v1/schemas/:type/config", read, async (request) => ({
      type: request.params.type,
      compatibility: await schemas.getCompatibility(request.params.type),
    }));

    app.put<{ Params: TypeParams }>("/v1/schemas/:type/config", change, async (request) => {
      const mode = (request.body as { compatibility?: unknown } | undefined)?.compatibility;
      if (!isCompatibilityMode(mode)) {
        throw badRequest(
          'send {"compatibility": "BACKWARD" | "FORWARD" | "FULL" | "NONE"} as application/json',
        );
      }
      await schemas.setCompatibility(request.params.type, mode);
      return { type: request.params.type, compatibility: mode };
    });
  };
}
