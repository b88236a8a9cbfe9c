// A queue address (`redis://` or `rediss://` for TLS) as ioredis options. The password never
// appears in a message or a log line: `shown` is the address with it masked.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import Redis from 'ioredis';
import type { ConnectionOptions } from 'bullmq';

export class QueueAddressError extends Error {}

export interface QueueAddress {
  /** Options for every connection (BullMQ's need `maxRetriesPerRequest: null`). */
  redis: RedisOptions;
  /** The address with its password masked, for messages and provenance. */
  shown: string;
}

/** Where a self-signed CA for `rediss://` comes from when no --queue-ca is given. */
export const QUEUE_CA_ENV = 'BENCHTOP_QUEUE_CA';
/** The queue the app's (and `benchtop web`'s) sweeps go to when no --queue is given. */
export const QUEUE_ENV = 'BENCHTOP_QUEUE';

export function parseQueueAddress(raw: string, caFile = process.env[QUEUE_CA_ENV] || undefined): QueueAddress {
  let u: URL;
  try { u = new URL(raw); } catch { throw new QueueAddressError(`--queue "${raw.replace(/:[^:@/]*@/, ':***@')}" is not an address: give redis://HOST:PORT, or rediss://HOST:PORT for TLS`); }
  const shown = `${u.protocol}//${u.username || u.password ? `${decodeURIComponent(u.username)}${u.password ? ':***' : ''}@` : ''}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueAddressError(`--queue ${shown}: the scheme must be redis:// or rediss:// (TLS), not ${u.protocol}//`);
  if (!u.hostname) throw new QueueAddressError(`--queue ${shown}: no host (redis://HOST:PORT)`);
  if (u.search || u.hash) throw new QueueAddressError(`--queue ${shown}: options after ? or # are not read; give only redis://[:PASSWORD@]HOST:PORT[/DB]`);
  const db = u.pathname === '' || u.pathname === '/' ? 0 : Number(u.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0 || db > 15 || !/^\/?\d*$/.test(u.pathname)) throw new QueueAddressError(`--queue ${shown}: the database after the port must be a number 0…15, not "${u.pathname.slice(1)}"`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const tls = u.protocol === 'rediss:';
  if (caFile && !tls) throw new QueueAddressError(`a CA file (${caFile}) was given for ${shown}, which is not TLS: use rediss://`);
  let ca: Buffer | undefined;
  if (caFile) {
    try { ca = readFileSync(caFile); } catch (err) { throw new QueueAddressError(`the queue's CA file ${caFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`); }
    if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new QueueAddressError(`the queue's CA file ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return {
    shown,
    redis: {
      host, port: u.port ? Number(u.port) : 6379, db,
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      tls: tls ? { ...(ca ? { ca } : {}), ...(isIP(host) ? {} : { servername: host }) } : undefined,
      maxRetriesPerRequest: null,
      connectTimeout: 10_000,
    },
  };
}

/** The same options typed as BullMQ's: its declared RedisOptions is a looser copy of ioredis's, which tsc does not match up. */
export const bullConnection = (address: QueueAddress): ConnectionOptions => address.redis as ConnectionOptions;

/** The queue named by BENCHTOP_QUEUE, or undefined (unset, or unusable: then `warn` says why and runs stay local). */
export function queueFromEnv(warn: (message: string) => void): QueueAddress | undefined {
  const raw = process.env[QUEUE_ENV];
  if (!raw) return undefined;
  try { return parseQueueAddress(raw); } catch (err) { warn(`${QUEUE_ENV}: ${(err as Error).message}; sweeps run on this machine`); return undefined; }
}

/** What a failed connection means, in the user's terms. */
function explain(address: QueueAddress, err: Error): string {
  const m = err.message;
  if (/ECONNREFUSED/.test(m)) return `nothing listens at ${address.shown} (is redis-server running there?)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(m)) return `the host of ${address.shown} is not known`;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(m)) return `${address.shown} refused the password`;
  if (/NOAUTH/.test(m)) return `${address.shown} wants a password: redis://:PASSWORD@HOST:PORT`;
  if (/self[- ]signed|unable to verify|certificate/i.test(m)) return `${address.shown}: its TLS certificate is not trusted (${m}); give its CA with --queue-ca FILE or ${QUEUE_CA_ENV}`;
  if (/ETIMEDOUT|timed? ?out/i.test(m)) return `${address.shown} did not answer within 10 s`;
  return `${address.shown}: ${m}`;
}

/** Connects once and pings; throws QueueAddressError saying why the queue cannot be used. */
export async function checkQueueReachable(address: QueueAddress): Promise<void> {
  const probe = new Redis({ ...address.redis, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: Error | undefined;
  probe.on('error', (err: Error) => { lastError = err; });
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new QueueAddressError(`cannot use the queue: ${explain(address, lastError ?? (err as Error))}`);
  } finally {
    probe.disconnect();
  }
}
