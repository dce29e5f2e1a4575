// gRPC server reflection (grpc.reflection.v1 and v1alpha), so tools such as grpcurl list and
// call the collector's services without having its .proto files. Only the services this
// server answers are described: the EventService and the health checks.
import { PROTO_DIR } from "@eventpipe/proto";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";

const SERVED_FILES = ["event/event.proto", "grpc/health/v1/health.proto"];

export function addReflection(server: Pick<Server, "addService">): void {
  const definition = loadSync(SERVED_FILES, { includeDirs: [PROTO_DIR] });
  new ReflectionService(definition).addToServer(server);
}
