// The example handler of deploy/k8s: acknowledges every event and answers with what it saw.
// Replace it, or replace the processor in pipeline.yaml with an http or grpc one. A module
// here can import only Node's built-ins: the worker image has no other packages for it.
export default async function handle(event, ctx) {
  const answer = { handled: event.eventId, type: event.type, attempt: ctx.attempt };
  return { outcome: "success", body: Buffer.from(JSON.stringify(answer)) };
}
