// Where each event is stored: the pipeline file's routes by event type (first match wins, the
// rest to `default`), one enqueuer per route that stores into its queue, or into each of its
// queues at once for a fan-out route. Without a pipeline file there is one route, `default`,
// to QUEUE_NAME, and routing costs nothing.
import { createRouter, type Pipeline } from "@eventpipe/pipeline";
import { createEnqueuer, type Enqueuer, queueKeys } from "@eventpipe/queue";
import type { Redis } from "ioredis";

export interface RoutedStores {
  /** Stores events of this type: in one queue, or a copy in each queue of a fan-out route. */
  enqueuerFor(type: string): Enqueuer;
}

export function createRoutedStores(
  redis: Redis,
  pipeline: Pipeline,
  /** Wraps each enqueuer (metrics time the writes). */
  wrap: (enqueuer: Enqueuer) => Enqueuer = (enqueuer) => enqueuer,
): RoutedStores {
  const router = createRouter(pipeline.routes);
  // Routes with the same queues share an enqueuer, so their events share script calls.
  const byQueues = new Map<string, Enqueuer>();
  const byRoute = new Map<string, Enqueuer>();
  for (const route of pipeline.routes) {
    const queues = route.queues.join(" ");
    let enqueuer = byQueues.get(queues);
    if (enqueuer === undefined) {
      enqueuer = wrap(createEnqueuer(redis, route.queues.map(queueKeys)));
      byQueues.set(queues, enqueuer);
    }
    byRoute.set(route.name, enqueuer);
  }
  const only = byQueues.size === 1 ? [...byQueues.values()][0] : undefined;
  return {
    enqueuerFor:
      only !== undefined ? () => only : (type) => byRoute.get(router.routeFor(type).name)!,
  };
}
