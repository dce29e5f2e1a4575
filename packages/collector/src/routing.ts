// Where each event is stored: the pipeline file's routes by event type (first match wins, the
// rest to `default`), one enqueuer per route that stores into its queue, or into each of its
// queues at once for a fan-out route. With QUEUE_PARTITIONS > 1 each route has one enqueuer per
// partition and the event's partition key (else its id) picks one. Without a pipeline file
// there is one route, `default`, to QUEUE_NAME, and routing looks nothing up.
import { createRouter, type Pipeline } from "@eventpipe/pipeline";
import {
  createEnqueuer,
  type Enqueuer,
  isClusterClient,
  partitionKeys,
  partitionOf,
} from "@eventpipe/queue";
import type { Redis } from "ioredis";

export interface RoutedStores {
  /**
   * Stores events of this type with this partition key: in one queue, or a copy in each queue
   * of a fan-out route, in the key's partition.
   */
  enqueuerFor(type: string, partitionKey: string): Enqueuer;
}

export function createRoutedStores(
  redis: Redis,
  pipeline: Pipeline,
  partitions: number,
  /** Wraps each enqueuer (metrics time the writes). */
  wrap: (enqueuer: Enqueuer) => Enqueuer = (enqueuer) => enqueuer,
): RoutedStores {
  const router = createRouter(pipeline.routes);
  // Routes with the same queues share enqueuers, so their events share script calls.
  const byQueues = new Map<string, Enqueuer[]>();
  const byRoute = new Map<string, Enqueuer[]>();
  for (const route of pipeline.routes) {
    if (route.queues.length > 1 && isClusterClient(redis)) {
      throw new Error(
        `route "${route.name}" fans out to ${route.queues.join(", ")}: one script call stores every copy, and on Redis Cluster their keys are in different slots; fan-out routes need a single Redis node`,
      );
    }
    const queues = route.queues.join(" ");
    let enqueuers = byQueues.get(queues);
    if (enqueuers === undefined) {
      const layouts = route.queues.map((queue) => partitionKeys(queue, partitions));
      enqueuers = Array.from({ length: partitions }, (_, p) =>
        wrap(
          createEnqueuer(
            redis,
            layouts.map((layout) => layout[p]!),
          ),
        ),
      );
      byQueues.set(queues, enqueuers);
    }
    byRoute.set(route.name, enqueuers);
  }
  const only = byQueues.size === 1 ? [...byQueues.values()][0] : undefined;
  const routeOf = (type: string) => byRoute.get(router.routeFor(type).name)!;
  return {
    // With one partition partitionOf is 0 without hashing; with one route no type is looked up.
    enqueuerFor: (type, partitionKey) =>
      (only ?? routeOf(type))[partitionOf(partitionKey, partitions)]!,
  };
}
