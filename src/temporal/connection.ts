import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { Config } from '../config';

/** What both the client Connection and the worker's NativeConnection accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls: TLSConfig | boolean;
  apiKey?: string;
}

export function temporalConnectionOptions(temporal: Config['temporal'], address: string): TemporalConnectionOptions {
  const { tls, apiKey } = temporal;
  const tlsOptions: TLSConfig | boolean =
    typeof tls === 'boolean'
      ? tls
      : {
          ...(tls.serverNameOverride ? { serverNameOverride: tls.serverNameOverride } : {}),
          ...(tls.serverRootCACertificatePath ? { serverRootCACertificate: readFileSync(tls.serverRootCACertificatePath) } : {}),
          ...(tls.clientCertPath && tls.clientKeyPath
            ? { clientCertPair: { crt: readFileSync(tls.clientCertPath), key: readFileSync(tls.clientKeyPath) } }
            : {}),
        };
  return { address, tls: tlsOptions, ...(apiKey ? { apiKey } : {}) };
}

export async function connectClient(temporal: Config['temporal'], address: string): Promise<Client> {
  const connection = await Connection.connect({ ...temporalConnectionOptions(temporal, address), connectTimeout: '10s' });
  return new Client({ connection, namespace: temporal.namespace });
}
