// Which route, and so which queue, an event type goes to.
import { describe, expect, it } from "vitest";
import { createRouter, PipelineError, type Route } from "../src/index.js";

const route = (name: string, types: string[], queue = name): Route => ({
  name,
  types,
  queues: [queue],
});

describe("routing event types", () => {
  const router = createRouter([
    route("logins", ["user_login", "auth.*"]),
    route("created", ["*.created"]),
    route("audit", ["auth.failed", "audit"]),
    route("default", ["never_matches"], "event_queue"),
  ]);
  const nameFor = (type: string) => router.routeFor(type).name;

  it("sends exact types and wildcard matches to their route", () => {
    expect(nameFor("user_login")).toBe("logins");
    expect(nameFor("auth.password_reset")).toBe("logins");
    expect(nameFor("order.created")).toBe("created");
    expect(nameFor("order.line.created")).toBe("created");
    expect(router.routeFor("user_login").queues).toEqual(["logins"]);
  });

  it("lets the first matching route win, in file order", () => {
    // auth.failed is named by `audit`, but `logins` comes first and matches auth.*.
    expect(nameFor("auth.failed")).toBe("logins");
    expect(nameFor("auth.created")).toBe("logins");
    expect(nameFor("audit")).toBe("audit");
  });

  it("treats * as any run of characters, including none, and the rest literally", () => {
    expect(nameFor("auth.")).toBe("logins");
    expect(nameFor(".created")).toBe("created");
    expect(nameFor("authx")).toBe("default");
    expect(nameFor("user_login_v2")).toBe("default");
    expect(nameFor("created")).toBe("default");

    const literal = createRouter([
      route("regexy", ["a.b", "(x)+", "price$*", "[y]*z"]),
      route("default", ["*"]),
    ]);
    expect(literal.routeFor("a.b").name).toBe("regexy");
    expect(literal.routeFor("axb").name).toBe("default");
    expect(literal.routeFor("(x)+").name).toBe("regexy");
    expect(literal.routeFor("xx").name).toBe("default");
    expect(literal.routeFor("price$usd").name).toBe("regexy");
    expect(literal.routeFor("[y]...z").name).toBe("regexy");
    expect(literal.routeFor("yz").name).toBe("default");
  });

  it("handles several wildcards in one pattern without overlapping its pieces", () => {
    const router = createRouter([route("mid", ["a*b*a"]), route("default", [])]);
    expect(router.routeFor("aba").name).toBe("mid");
    expect(router.routeFor("axxbyya").name).toBe("mid");
    expect(router.routeFor("ab").name).toBe("default");
    expect(router.routeFor("aa").name).toBe("default");
    expect(router.routeFor("abab").name).toBe("default");
  });

  it("answers a hostile type against a many-wildcard pattern", () => {
    // A backtracking RegExp for this pattern takes over a second on 80 characters; the
    // matcher scans once, so this answers at once instead of running out the test's time.
    const router = createRouter([route("stars", ["*a*a*a*a*a*b*c"]), route("default", ["*"])]);
    expect(router.routeFor(`${"a".repeat(100_000)}c`).name).toBe("default");
    expect(router.routeFor(`${"a".repeat(1000)}bc`).name).toBe("stars");
  });

  it("sends a type no route matches to the route named default, wherever it is", () => {
    const router = createRouter([route("default", ["only_this"], "fallback"), route("x", ["x"])]);
    expect(router.routeFor("x").name).toBe("x");
    expect(router.routeFor("only_this").name).toBe("default");
    expect(router.routeFor("anything").queues).toEqual(["fallback"]);
  });

  it("gives the same answers after its cache fills up and is cleared", () => {
    const router = createRouter([route("logins", ["auth.*"]), route("default", ["*"])]);
    for (let i = 0; i < 25_000; i++) {
      expect(router.routeFor(`auth.${i}`).name).toBe("logins");
      expect(router.routeFor(`random-${i}`).name).toBe("default");
    }
    expect(router.routeFor("auth.0").name).toBe("logins");
    expect(router.routeFor("random-0").name).toBe("default");
  });

  it("refuses routes without one named default", () => {
    expect(() => createRouter([route("logins", ["*"])])).toThrow(PipelineError);
    expect(() => createRouter([route("logins", ["*"])])).toThrow(/named "default"/);
  });
});
