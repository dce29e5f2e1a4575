// How the producer's address maps to a grpc-js target: one address and gRPC targets pass
// through, lists of IP literals use grpc-js's ipv4:/ipv6: resolvers, lists with names use the
// producer's own host-list resolver, and what names no collector is refused with the reason.
import { describe, expect, it } from "vitest";
import { InvalidCollectorAddressError, parseCollectorTarget } from "../src/index.js";

describe("parseCollectorTarget", () => {
  it("passes one address through unchanged, as before", () => {
    expect(parseCollectorTarget("localhost:50051")).toEqual({
      target: "localhost:50051",
      kind: "single",
      hosts: [],
    });
    expect(parseCollectorTarget(" 10.0.0.7:50051 ").target).toBe("10.0.0.7:50051");
    expect(parseCollectorTarget("[::1]:50051").target).toBe("[::1]:50051");
  });

  it("passes gRPC targets through: a dns:/// name with one address per collector", () => {
    for (const target of [
      "dns:///collector.eventpipe.svc.cluster.local:50051",
      "dns:collector:50051",
      "ipv4:127.0.0.1:1,127.0.0.1:2",
      "ipv6:[::1]:1,[::1]:2",
      "unix:/run/eventpipe/collector.sock",
    ]) {
      expect(parseCollectorTarget(target)).toEqual({ target, kind: "grpc-target", hosts: [] });
    }
  });

  it("maps a list of IPv4 addresses to grpc-js's ipv4: target", () => {
    expect(parseCollectorTarget("127.0.0.1:50051, 127.0.0.1:50052,10.1.2.3:7000")).toEqual({
      target: "ipv4:127.0.0.1:50051,127.0.0.1:50052,10.1.2.3:7000",
      kind: "ipv4-list",
      hosts: [
        { host: "127.0.0.1", port: 50051 },
        { host: "127.0.0.1", port: 50052 },
        { host: "10.1.2.3", port: 7000 },
      ],
    });
  });

  it("maps a list of bracketed IPv6 addresses to grpc-js's ipv6: target", () => {
    expect(parseCollectorTarget("[::1]:50051,[fd00::2]:50051")).toEqual({
      target: "ipv6:[::1]:50051,[fd00::2]:50051",
      kind: "ipv6-list",
      hosts: [
        { host: "::1", port: 50051 },
        { host: "fd00::2", port: 50051 },
      ],
    });
  });

  it("maps a list with host names (or mixed families) to the host-list resolver", () => {
    expect(parseCollectorTarget("collector-0:50051,collector-1:50051")).toEqual({
      target: "eventpipe-hosts:collector-0:50051,collector-1:50051",
      kind: "host-list",
      hosts: [
        { host: "collector-0", port: 50051 },
        { host: "collector-1", port: 50051 },
      ],
    });
    expect(parseCollectorTarget("127.0.0.1:1,[::1]:2").target).toBe(
      "eventpipe-hosts:127.0.0.1:1,[::1]:2",
    );
    expect(parseCollectorTarget("localhost:1,127.0.0.1:2").kind).toBe("host-list");
  });

  it.each([
    ["", "it is empty"],
    ["   ", "it is empty"],
    ["a:1,,b:2", "the list has an empty entry"],
    ["a:1,", "the list has an empty entry"],
    ["a:1,b", '"b" has no port'],
    ["a:1,b:", '"b:" has no port from 1 to 65535'],
    ["a:1,b:0", '"b:0" has no port from 1 to 65535'],
    ["a:1,b:65536", '"b:65536" has no port from 1 to 65535'],
    ["a:1,b:http", '"b:http" has no port from 1 to 65535'],
    ["a:1,:2", '":2" has no valid host name'],
    ["a:1,b c:2", '"b c:2" has no valid host name'],
    ["a:1,::1:2", "put an IPv6 address in brackets, [::1]:2"],
    ["a:1,[::1]", '"[::1]" is not [ipv6]:port'],
    ["a:1,[host]:2", '"[host]:2" is not [ipv6]:port'],
    ["dns:///a:1,b:1", "a dns: target names one host"],
  ])("refuses %j: %s", (address, reason) => {
    let thrown: unknown;
    try {
      parseCollectorTarget(address);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidCollectorAddressError);
    expect(thrown).toMatchObject({ code: "EP_PRODUCER_BAD_ADDRESS", address });
    expect((thrown as Error).message).toContain(reason);
  });
});
