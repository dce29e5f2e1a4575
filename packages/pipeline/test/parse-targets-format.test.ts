// The HTTP processor's `format`: raw (the default), cloudevents-binary, cloudevents-structured;
// anything else stops the service naming the allowed values at file:line:col.
import { describe, expect, it } from "vitest";
import { type HttpProcessorOptions, PipelineError, parsePipeline } from "../src/index.js";

const SOURCE = "conf/pipeline.yaml";

function fileWith(http: string): string {
  return `routes:
  - { name: default, types: ["*"], queue: events }
processors:
  - route: default
    http: ${http}
`;
}

function httpOf(text: string): HttpProcessorOptions {
  const processor = parsePipeline(text, SOURCE, {}).processors[0];
  if (processor?.kind !== "http") throw new Error("expected an http processor");
  return processor.http;
}

function problemsOf(text: string): readonly string[] {
  try {
    parsePipeline(text, SOURCE, {});
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineError);
    return (error as PipelineError).problems;
  }
  throw new Error("expected a PipelineError");
}

describe("http format", () => {
  it("is raw when absent, and leaves the options as they always were", () => {
    const http = httpOf(fileWith('{ url: "http://h/in" }'));
    expect(http).toEqual({ url: "http://h/in", method: "POST", timeoutMs: 15_000, headers: {} });
    expect("format" in http).toBe(false);
    expect("format" in httpOf(fileWith('{ url: "http://h/in", format: raw }'))).toBe(false);
  });

  it("takes cloudevents-binary and cloudevents-structured, with a signing secret too", () => {
    expect(httpOf(fileWith('{ url: "http://h/in", format: cloudevents-binary }'))).toMatchObject({
      format: "cloudevents-binary",
    });
    const structured = httpOf(
      fileWith(
        '{ url: "http://h/in", format: "cloudevents-structured", signingSecret: "whsec_c2VjcmV0" }',
      ),
    );
    expect(structured).toMatchObject({
      format: "cloudevents-structured",
      signingSecret: "whsec_c2VjcmV0",
    });
    expect(Object.isFrozen(structured)).toBe(true);
  });

  it("names the allowed values, with the place, for an unknown format or a non-string", () => {
    expect(problemsOf(fileWith('{ url: "http://h/in", format: cloudevents }'))).toEqual([
      'conf/pipeline.yaml:5:41: format "cloudevents" must be one of raw, cloudevents-binary, cloudevents-structured',
    ]);
    expect(
      problemsOf(`routes:
  - { name: default, types: ["*"], queue: events }
processors:
  - route: default
    http:
      url: "http://h/in"
      format: 3
`),
    ).toEqual(['conf/pipeline.yaml:7:15: format must be a string, not 3: quote it ("3")']);
  });

  it("refuses a CloudEvents format with method GET, which sends no body", () => {
    expect(
      problemsOf(fileWith('{ url: "http://h/in", method: GET, format: cloudevents-structured }')),
    ).toEqual([
      "conf/pipeline.yaml:5:54: format cloudevents-structured sends each event in the request body; method GET sends none: use POST, PUT, PATCH or DELETE",
    ]);
  });
});
