// Which queue each event goes to: the pipeline file's routes by event type (first match wins,
// the rest to `default`), one queue store per route. Without a pipeline file there is one
// route, `default`, to QUEUE_NAME, and routing costs nothing.
import { createRouter, type Pipeline } from "@eventpipe/pipeline";
import { createQueueStore, type QueueStore, queueKeys } from "@eventpipe/queue";
import type { Redis } from "ioredis";

export interface RoutedStores {
  /** The store of the queue an event of this type goes to. */
  storeFor(type: string): QueueStore;
}

export function createRoutedStores(redis: Redis, pipeline: Pipeline): RoutedStores {
  const router = createRouter(pipeline.routes);
  const byQueue = new Map<string, QueueStore>();
  const byRoute = new Map<string, QueueStore>();
  for (const route of pipeline.routes) {
    let store = byQueue.get(route.queues[0]!);
    if (store === undefined) {
      store = createQueueStore(redis, queueKeys(route.queues[0]!));
      byQueue.set(route.queues[0]!, store);
    }
    byRoute.set(route.name, store);
  }
  const only = byQueue.size === 1 ? [...byQueue.values()][0] : undefined;
  return {
    storeFor: only !== undefined ? () => only : (type) => byRoute.get(router.routeFor(type).name)!,
  };
}
