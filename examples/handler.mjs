// An eventpipe handler module: resolve when the event is handled (it is then acknowledged),
// throw to have it retried. Resolving with { outcome, body } gives the answer a waiting Call
// receives and a result queue keeps.
export default async function handle(event, ctx) {
  const answer = { handled: event.eventId, type: event.type, attempt: ctx.attempt };
  return { outcome: "success", body: Buffer.from(JSON.stringify(answer)) };
}
