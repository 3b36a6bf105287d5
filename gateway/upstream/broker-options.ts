import type { Will } from "../session/types";
import type { ConnectionOptions } from "./connection";

/** The broker and how every connection of an adapter reaches it: its login and TLS files. */
export interface BrokerOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
}

/** One connection's options: the adapter's broker, login and TLS, with this client id, session and will. */
export function connectionOptionsFor(
  broker: BrokerOptions,
  clientId: string,
  clean: boolean,
  keepAlive: number,
  will: Will | undefined,
): ConnectionOptions {
  const opts: ConnectionOptions = {
    url: broker.url,
    clientId,
    clean,
    keepAlive,
    will,
    rejectUnauthorized: broker.rejectUnauthorized,
    connectTimeoutMs: broker.connectTimeoutMs,
  };
  if (broker.username !== undefined) opts.username = broker.username;
  if (broker.password !== undefined) opts.password = broker.password;
  if (broker.ca !== undefined) opts.ca = broker.ca;
  if (broker.cert !== undefined) opts.cert = broker.cert;
  if (broker.key !== undefined) opts.key = broker.key;
  return opts;
}
