// Transport security for both doors from the environment: TLS when a certificate and key are given,
// mutual TLS when a client CA is given too (clients must present a certificate it signed).
import { readFileSync } from "node:fs";
import type { ServerOptions as HttpsServerOptions } from "node:https";
import { ConfigError, type Env, readOptionalString } from "@eventpipe/queue";
import { ServerCredentials } from "@grpc/grpc-js";

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | undefined;
}

export function readTlsFiles(env: Env): TlsFiles | undefined {
  const certFile = readOptionalString(env, "COLLECTOR_TLS_CERT_FILE");
  const keyFile = readOptionalString(env, "COLLECTOR_TLS_KEY_FILE");
  const clientCaFile = readOptionalString(env, "COLLECTOR_TLS_CLIENT_CA_FILE");
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined) {
      throw new ConfigError(
        "COLLECTOR_TLS_CLIENT_CA_FILE",
        clientCaFile,
        "COLLECTOR_TLS_CERT_FILE and COLLECTOR_TLS_KEY_FILE set too",
      );
    }
    return undefined;
  }
  if (certFile === undefined)
    throw new ConfigError("COLLECTOR_TLS_CERT_FILE", "", "a PEM certificate path (the key is set)");
  if (keyFile === undefined)
    throw new ConfigError("COLLECTOR_TLS_KEY_FILE", "", "a PEM key path (the certificate is set)");
  return { certFile, keyFile, clientCaFile };
}

function read(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, path, `a readable PEM file (${(error as Error).message})`);
  }
}

export function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const clientCa =
    tls.clientCaFile === undefined ? null : read("COLLECTOR_TLS_CLIENT_CA_FILE", tls.clientCaFile);
  return ServerCredentials.createSsl(
    clientCa,
    [
      {
        cert_chain: read("COLLECTOR_TLS_CERT_FILE", tls.certFile),
        private_key: read("COLLECTOR_TLS_KEY_FILE", tls.keyFile),
      },
    ],
    clientCa !== null,
  );
}

/** The same files for the HTTP door: HTTPS, and with a client CA, mutual TLS. */
export function httpsOptions(tls: TlsFiles): HttpsServerOptions {
  const options: HttpsServerOptions = {
    cert: read("COLLECTOR_TLS_CERT_FILE", tls.certFile),
    key: read("COLLECTOR_TLS_KEY_FILE", tls.keyFile),
  };
  if (tls.clientCaFile === undefined) return options;
  return {
    ...options,
    ca: read("COLLECTOR_TLS_CLIENT_CA_FILE", tls.clientCaFile),
    requestCert: true,
    rejectUnauthorized: true,
  };
}
