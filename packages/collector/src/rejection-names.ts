// Rejection reasons as the short names HTTP replies and metric labels use, one place for both
// doors and the metrics.
import { type RejectionReason, rejectionReasonToJSON } from "@eventpipe/proto";

const PREFIX = "REJECTION_REASON_";
const reasonNames = new Map<RejectionReason, string>();

/** "REJECTION_REASON_SCHEMA_VIOLATION" → "schema_violation". */
export function reasonName(reason: RejectionReason): string {
  let name = reasonNames.get(reason);
  if (name === undefined) {
    const full = rejectionReasonToJSON(reason);
    name = (full.startsWith(PREFIX) ? full.slice(PREFIX.length) : full).toLowerCase();
    reasonNames.set(reason, name);
  }
  return name;
}
