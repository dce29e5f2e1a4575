import { describe, expect, it } from "vitest";
import { parseListenAddress } from "../src/listen-address.js";

describe("ECHO_LISTEN parsing", () => {
  it("reads host:port, [ipv6]:port and :port", () => {
    expect(parseListenAddress("127.0.0.1:50061")).toEqual({ host: "127.0.0.1", port: 50061 });
    expect(parseListenAddress("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(parseListenAddress("[::1]:7000")).toEqual({ host: "::1", port: 7000 });
    expect(parseListenAddress(":7000")).toEqual({ host: "0.0.0.0", port: 7000 });
  });

  it("names the variable and the value when it is not host:port", () => {
    for (const bad of ["127.0.0.1", "host:port", "h:70000", "::1:80", ""]) {
      expect(() => parseListenAddress(bad)).toThrow(`ECHO_LISTEN="${bad}" is not host:port`);
    }
  });
});
