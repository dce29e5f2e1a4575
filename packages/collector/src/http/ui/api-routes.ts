// The dashboard's JSON API under /ui/api, every route with the `admin` access (tokens allowed
// the `admin` scope, when tokens are configured). Reads: the overview, a queue's dead letters,
// one dead letter. Changes (replay, purge) are POSTs with a JSON body, so a cross-site form
// cannot make them: the door takes no form or text body (415), and a cross-site fetch with a
// JSON body needs a CORS preflight the collector never grants.
//
// Queue names in paths must be queues of this collector's pipeline (404 otherwise), so the
// API never reads or writes keys outside the pipeline. A queue split into partitions is read
// and changed across all of them, as recorded in Redis.
import { queuesOf } from "@eventpipe/pipeline";
import { countQueueDeadLetters, listQueueDeadLetters } from "@eventpipe/queue";
import type { FastifyInstance } from "fastify";
import type { DoorContext } from "../context.js";
import { badRequest, notFound } from "../errors.js";
import type { AdminRedis } from "./admin-redis.js";
import {
  DEAD_LETTER_REASONS,
  parseSelection,
  purgeSelection,
  replaySelection,
} from "./dead-letter-selection.js";
import { deadLetterDetail, deadLetterRow } from "./dead-letter-view.js";
import { readOverview, sharedOverview } from "./overview.js";

const admin = { config: { access: "admin" as const } };

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

type QueueParams = { queue: string };
type ListQuery = { reason?: unknown; type?: unknown; limit?: unknown };

function parseLimit(value: unknown): number {
  if (value === undefined || value === "") return DEFAULT_LIMIT;
  if (typeof value !== "string" || !/^\d{1,4}$/.test(value)) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  const limit = Number(value);
  if (limit < 1 || limit > MAX_LIMIT) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

function parseFilter({ reason, type }: ListQuery) {
  const filter: { reason?: string; type?: string } = {};
  if (reason !== undefined && reason !== "") {
    if (!(DEAD_LETTER_REASONS as readonly unknown[]).includes(reason)) {
      throw badRequest(`reason must be one of ${DEAD_LETTER_REASONS.join(", ")}`);
    }
    filter.reason = reason as string;
  }
  if (type !== undefined && type !== "") {
    if (typeof type !== "string") throw badRequest("type must be given once");
    filter.type = type;
  }
  return filter;
}

export function dashboardApi({ config }: DoorContext, redis: AdminRedis) {
  const queues = queuesOf(config.pipeline);
  const known = new Set(queues);
  const queueOf = (queue: string): string => {
    if (!known.has(queue)) {
      throw notFound(`"${queue}" is not a queue of this pipeline; queues: ${queues.join(", ")}`);
    }
    return queue;
  };
  const auth = config.tokens.length === 0 ? "open" : "token";
  const overview = sharedOverview(async () => readOverview(await redis.get(), queues, auth));

  return async (app: FastifyInstance) => {
    // Figures and dead letters are live data: no cache, anywhere.
    app.addHook("onSend", (_request, reply, payload, done) => {
      reply.header("cache-control", "no-store");
      done(null, payload);
    });

    app.get("/ui/api/overview", admin, () => overview());

    app.get<{ Params: QueueParams; Querystring: ListQuery }>(
      "/ui/api/queues/:queue/dead-letters",
      admin,
      async (request) => {
        const queue = queueOf(request.params.queue);
        const filter = parseFilter(request.query);
        const limit = parseLimit(request.query.limit);
        const connection = await redis.get();
        const [total, entries] = await Promise.all([
          countQueueDeadLetters(connection, queue),
          listQueueDeadLetters(connection, queue, filter, limit),
        ]);
        return { queue, total, limit, entries: entries.map(({ entry }) => deadLetterRow(entry)) };
      },
    );

    app.get<{ Params: QueueParams & { eventId: string } }>(
      "/ui/api/queues/:queue/dead-letters/:eventId",
      admin,
      async (request) => {
        const queue = queueOf(request.params.queue);
        const { eventId } = request.params;
        const entries = await listQueueDeadLetters(await redis.get(), queue, { eventId });
        if (entries.length === 0) {
          throw notFound(`no dead letter of queue "${queue}" has event id "${eventId}"`);
        }
        // Usually one; an id dead-lettered twice (sent again past the dedup window) has more.
        return { queue, entries: entries.map(({ entry }) => deadLetterDetail(entry)) };
      },
    );

    app.post<{ Params: QueueParams }>(
      "/ui/api/queues/:queue/dead-letters/replay",
      admin,
      async (request) => {
        const queue = queueOf(request.params.queue);
        const selection = parseSelection(request.body);
        const { count, missing } = await replaySelection(await redis.get(), queue, selection);
        request.log.info({ queue, replayed: count }, "dead letters replayed");
        return { queue, replayed: count, ...(missing && { missing }) };
      },
    );

    app.post<{ Params: QueueParams }>(
      "/ui/api/queues/:queue/dead-letters/purge",
      admin,
      async (request) => {
        const queue = queueOf(request.params.queue);
        const selection = parseSelection(request.body);
        const { count, missing } = await purgeSelection(await redis.get(), queue, selection);
        request.log.info({ queue, purged: count }, "dead letters purged");
        return { queue, purged: count, ...(missing && { missing }) };
      },
    );
  };
}
