// gRPC server reflection: a client with no .proto files of ours learns the collector's services
// and their message types from the server itself, as grpcurl does.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { credentials, loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";

const { redisUrl } = useSharedRedis();

interface ReflectionReply {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/** A grpc.reflection.v1 client built from the reflection package's own .proto. */
function reflectionClient(address: string) {
  const packageJson = createRequire(import.meta.url).resolve("@grpc/reflection/package.json");
  const protoFile = join(dirname(packageJson), "build/proto/grpc/reflection/v1/reflection.proto");
  const loaded = loadPackageDefinition(loadSync(protoFile)) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (a: string, c: unknown) => unknown } } };
  };
  const Client = loaded.grpc.reflection.v1.ServerReflection;
  return new Client(address, credentials.createInsecure()) as {
    serverReflectionInfo(): {
      write(request: object): void;
      end(): void;
      on(event: "data", listener: (reply: ReflectionReply) => void): void;
      on(event: "error", listener: (error: Error) => void): void;
      on(event: "end", listener: () => void): void;
    };
    close(): void;
  };
}

/** Sends the requests on one reflection stream and collects the replies. */
function ask(address: string, requests: object[]): Promise<ReflectionReply[]> {
  const client = reflectionClient(address);
  return new Promise<ReflectionReply[]>((resolve, reject) => {
    const replies: ReflectionReply[] = [];
    const call = client.serverReflectionInfo();
    call.on("data", (reply) => replies.push(reply));
    call.on("error", reject);
    call.on("end", () => resolve(replies));
    for (const request of requests) call.write(request);
    call.end();
  }).finally(() => client.close());
}

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector(redisUrl, uniqueQueueName("reflection"));
});
afterAll(async () => {
  await collector.close();
});

describe("gRPC reflection", () => {
  it("lists the collector's services", async () => {
    const [reply] = await ask(collector.address, [{ listServices: "" }]);
    const names = reply?.listServicesResponse?.service.map((service) => service.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(["event.EventService", "grpc.health.v1.Health"]));
    // A service the collector does not serve is not described.
    expect(names).not.toContain("event.Processor");
  });

  it("describes a service with the file that defines it and its messages", async () => {
    const [reply] = await ask(collector.address, [{ fileContainingSymbol: "event.EventService" }]);
    const files = reply?.fileDescriptorResponse?.fileDescriptorProto ?? [];
    expect(files.length).toBeGreaterThan(0);
    const text = Buffer.concat(files).toString("latin1");
    for (const name of ["EventService", "StreamEvents", "Publish", "Call", "CallReply"]) {
      expect(text).toContain(name);
    }
  });
});
