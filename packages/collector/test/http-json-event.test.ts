import { describe, expect, it } from "vitest";
import { eventFromJson, parseTimestamp } from "../src/http/json-event.js";
import { uuidV7 } from "../src/http/uuid-v7.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidV7", () => {
  it("puts the time first and keeps ids made in one millisecond in order", () => {
    const ms = 0x0123_4567_89ab;
    const ids = Array.from({ length: 10_000 }, () => uuidV7(ms));
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(ids[0]!.replaceAll("-", "").slice(0, 12)).toBe("0123456789ab");
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // A clock that steps back does not make ids go back.
    expect(uuidV7(ms - 5_000) > ids.at(-1)!).toBe(true);
  });
});

describe("JSON event timestamps", () => {
  const now = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
  it.each([
    [undefined, now],
    [null, now],
    [1_735_786_000_123, 1_735_786_000_123],
    [1_735_786_000_123.9, 1_735_786_000_123],
    ["1735786000123", 1_735_786_000_123],
    ["2025-01-02T03:04:05Z", Date.UTC(2025, 0, 2, 3, 4, 5)],
    ["2025-01-02t03:04:05.5z", Date.UTC(2025, 0, 2, 3, 4, 5, 500)],
    ["2025-01-02 05:04:05.123456+02:00", Date.UTC(2025, 0, 2, 3, 4, 5, 123)],
  ])("reads %j", (value, expected) => {
    expect(parseTimestamp(value, now)).toBe(expected);
  });

  it.each([
    ["yesterday"],
    ["2025-01-02"],
    ["2025-13-45T99:00:00Z"],
    [Number.NaN],
    [1e300],
    [true],
    [{}],
  ])("refuses %j", (value) => {
    expect(parseTimestamp(value, now)).toBeUndefined();
  });
});

describe("eventFromJson", () => {
  it("builds the event the protobuf door would receive", () => {
    const outcome = eventFromJson(
      {
        eventId: "e1",
        type: "t",
        timestamp: 1_735_786_000_000,
        payload: { a: [1] },
        schemaVersion: 2,
      },
      0,
    );
    expect(outcome).toMatchObject({
      ok: true,
      assignedId: false,
      event: { eventId: "e1", type: "t", timestamp: 1_735_786_000_000n, schemaVersion: 2 },
    });
  });

  it.each([
    [{ type: "t", eventId: 7 }, /eventId/],
    [{ type: "t", source: 1 }, /source/],
    [{ type: "t", attributes: [] }, /attributes/],
    [{ type: "t", schemaVersion: -1 }, /schemaVersion/],
    [{ type: "t", schemaVersion: "1" }, /schemaVersion/],
  ])("calls %j malformed", (value, message) => {
    expect(eventFromJson(value, Date.now())).toMatchObject({
      ok: false,
      message: expect.stringMatching(message),
    });
  });
});
