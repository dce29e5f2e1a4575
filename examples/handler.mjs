// An eventpipe handler module: resolve when the event is handled (it is then acknowledged),
// throw to have it retried. Returning { outcome, body } answers a waiting Call.
export default async function handle(event, ctx) {
  if (ctx.attempt > 1) console.log(`retrying ${event.eventId} (attempt ${ctx.attempt})`);
  return { outcome: "success", body: Buffer.from(JSON.stringify({ handled: event.eventId })) };
}
