import { rmSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { makeCertificates, type TestCertificates } from "../../../test-support/certificates.js";
import { startTestCollector, uniqueQueueName } from "../../../test-support/collector.js";
import {
  channelCredentialsFromEnv,
  createEventClient,
  createProducer,
  sampleEvents,
  streamEvents,
} from "../../producer/src/index.js";

const redisUrl = inject("redisUrl");
let certs: TestCertificates;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(() => {
  rmSync(certs.dir, { recursive: true, force: true });
});

const INGEST = "ingest-secret-0123456789";
const LEGACY = "legacy-secret-0123456789";
const TOKENS = `ingest:${INGEST},legacy:${LEGACY}:StreamEvents`;

async function codeOf(promise: Promise<unknown>): Promise<number | "ok"> {
  return promise.then(
    () => "ok" as const,
    (error: grpc.ServiceError) => error.code,
  );
}

describe("collector security", () => {
  it("answers UNAUTHENTICATED without a valid token and PERMISSION_DENIED outside a token's RPCs", async () => {
    const collector = await startTestCollector(redisUrl, uniqueQueueName("auth"), {
      COLLECTOR_TOKENS: TOKENS,
    });
    const client = createEventClient({ address: collector.address });
    const send = (token: string | undefined, rpc: "single" | "batch") =>
      codeOf(streamEvents(client, [...sampleEvents(10)], { rpc, token }));
    expect(await send(undefined, "batch")).toBe(grpc.status.UNAUTHENTICATED);
    expect(await send("wrong-secret-0123456789", "batch")).toBe(grpc.status.UNAUTHENTICATED);
    expect(await send(LEGACY, "batch")).toBe(grpc.status.PERMISSION_DENIED);
    expect(await send(LEGACY, "single")).toBe("ok");
    expect(await send(INGEST, "batch")).toBe("ok");
    client.close();

    const refused = createProducer({
      address: collector.address,
      token: "nope-nope-nope-nope",
      retryForMs: 2000,
    });
    await refused.send([...sampleEvents(1)][0]!);
    await expect(refused.close()).rejects.toThrow(/unknown token/);
    const allowed = createProducer({ address: collector.address, token: INGEST });
    for (const event of sampleEvents(50)) await allowed.send(event);
    expect(await allowed.close()).toMatchObject({ sent: 50, stored: 50 });
    await collector.close();
  });

  it("serves TLS and mutual TLS with certificates from the environment", async () => {
    const tlsEnv = {
      COLLECTOR_TLS_CERT_FILE: certs.serverCert,
      COLLECTOR_TLS_KEY_FILE: certs.serverKey,
    };
    const tls = await startTestCollector(redisUrl, uniqueQueueName("tls"), tlsEnv);
    const address = tls.address.replace("127.0.0.1", "localhost");
    const trusted = channelCredentialsFromEnv({ COLLECTOR_TLS_CA_FILE: certs.caCert });
    const secure = createEventClient({ address, credentials: trusted });
    expect(await streamEvents(secure, [...sampleEvents(20)])).toMatchObject({
      success: true,
      eventsReceived: 20,
    });
    secure.close();
    const plaintext = createEventClient({ address });
    expect(await codeOf(streamEvents(plaintext, [...sampleEvents(1)]))).toBe(
      grpc.status.UNAVAILABLE,
    );
    plaintext.close();
    await tls.close();

    const mtls = await startTestCollector(redisUrl, uniqueQueueName("mtls"), {
      ...tlsEnv,
      COLLECTOR_TLS_CLIENT_CA_FILE: certs.caCert,
    });
    const mtlsAddress = mtls.address.replace("127.0.0.1", "localhost");
    const noClientCert = createEventClient({ address: mtlsAddress, credentials: trusted });
    expect(await codeOf(streamEvents(noClientCert, [...sampleEvents(1)]))).toBe(
      grpc.status.UNAVAILABLE,
    );
    noClientCert.close();
    const withClientCert = createEventClient({
      address: mtlsAddress,
      credentials: channelCredentialsFromEnv({
        COLLECTOR_TLS_CA_FILE: certs.caCert,
        PRODUCER_TLS_CERT_FILE: certs.clientCert,
        PRODUCER_TLS_KEY_FILE: certs.clientKey,
      }),
    });
    expect(await streamEvents(withClientCert, [...sampleEvents(20)])).toMatchObject({
      eventsReceived: 20,
    });
    withClientCert.close();
    await mtls.close();
  });
});
