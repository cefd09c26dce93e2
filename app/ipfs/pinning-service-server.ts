import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CID } from 'multiformats/cid';
import { z } from 'zod';
import type { KuboRpcBackend } from './kubo-rpc.ts';
import type { PinStatus } from './pinning-service.ts';

/**
 * A small IPFS Pinning Service API server in front of a real kubo node: what tests (and a
 * `devnet`) use in place of a commercial service. It is honest: a request becomes `pinned` only
 * after kubo has fetched every block (from the request's `origins`, over bitswap) and `pin/ls`
 * lists it; a fetch that does not finish within `fetchTimeoutMs` becomes `failed`.
 *
 * Implements POST /pins, GET /pins/{id}, GET /pins?cid=…, DELETE /pins/{id}, bearer-token auth
 * (401) and an optional request budget (429 with Retry-After).
 */
export interface PinningServerOptions {
  readonly kubo: KuboRpcBackend;
  readonly token: string;
  /** How long kubo may take to fetch a DAG before the request fails. Default 60 s. */
  readonly fetchTimeoutMs?: number;
  /** At most `max` requests per `windowMs`; beyond that, 429. Default: unlimited. */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
}

export interface PinningServer {
  /** `http://127.0.0.1:PORT` — the endpoint to give the client. */
  readonly url: string;
  /** Every status change, in order (tests wait on these). */
  readonly transitions: { requestid: string; status: PinStatus['status'] }[];
  /** How many requests were answered 429. */
  rateLimited(): number;
  close(): Promise<void>;
}

const PinBody = z.object({
  cid: z.string(),
  name: z.string().max(255).optional(),
  origins: z.array(z.string()).max(20).optional(),
  meta: z.record(z.string(), z.string()).optional(),
});

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

function fail(
  res: ServerResponse,
  status: number,
  reason: string,
  details?: string,
  headers?: Record<string, string>,
): void {
  send(res, status, { error: { reason, ...(details ? { details } : {}) } }, headers);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) throw new Error('body too large');
    parts.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

/** Starts the server on 127.0.0.1 (OS-chosen port). */
export async function startPinningServer(options: PinningServerOptions): Promise<PinningServer> {
  const pins = new Map<string, PinStatus>();
  const transitions: PinningServer['transitions'] = [];
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 60_000;
  const { addresses } = await options.kubo.id();
  const delegates = addresses.filter((a) => a.startsWith('/ip4/127.0.0.1/'));
  let windowStart = Date.now();
  let windowCount = 0;
  let limited = 0;
  const closing = new AbortController();

  const setStatus = (
    status: PinStatus,
    next: PinStatus['status'],
    info?: Record<string, string>,
  ): void => {
    status.status = next;
    if (info) status.info = info;
    transitions.push({ requestid: status.requestid, status: next });
  };

  const process = async (status: PinStatus): Promise<void> => {
    setStatus(status, 'pinning');
    const cid = CID.parse(status.pin.cid);
    const signal = AbortSignal.any([AbortSignal.timeout(fetchTimeoutMs), closing.signal]);
    try {
      for (const origin of status.pin.origins ?? []) {
        await options.kubo.connect(origin, signal).catch(() => undefined); // an unreachable origin is not fatal
      }
      await options.kubo.pin(cid, { signal });
      if (!(await options.kubo.isPinned(cid))) throw new Error('kubo does not list the pin');
      setStatus(status, 'pinned');
    } catch (error) {
      const reason = signal.aborted
        ? `could not fetch the content within ${fetchTimeoutMs} ms`
        : (error as Error).message;
      setStatus(status, 'failed', { reason });
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (options.rateLimit) {
        const now = Date.now();
        if (now - windowStart >= options.rateLimit.windowMs) {
          windowStart = now;
          windowCount = 0;
        }
        windowCount += 1;
        if (windowCount > options.rateLimit.max) {
          limited += 1;
          const retry = Math.ceil((windowStart + options.rateLimit.windowMs - now) / 1000);
          return fail(res, 429, 'RATE_LIMIT', 'too many requests', {
            'retry-after': String(Math.max(retry, 1)),
          });
        }
      }
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        return fail(res, 401, 'UNAUTHORIZED', 'access token is missing or invalid');
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const byId = /^\/pins\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'POST' && url.pathname === '/pins') {
        let body: z.infer<typeof PinBody>;
        try {
          body = PinBody.parse(await readJson(req));
          CID.parse(body.cid);
        } catch (error) {
          return fail(res, 400, 'BAD_REQUEST', (error as Error).message.slice(0, 200));
        }
        const status: PinStatus = {
          requestid: randomUUID(),
          status: 'queued',
          created: new Date().toISOString(),
          pin: {
            cid: body.cid,
            ...(body.name === undefined ? {} : { name: body.name }),
            ...(body.origins === undefined ? {} : { origins: body.origins }),
            ...(body.meta === undefined ? {} : { meta: body.meta }),
          },
          delegates,
        };
        pins.set(status.requestid, status);
        transitions.push({ requestid: status.requestid, status: 'queued' });
        send(res, 202, status);
        setImmediate(() => void process(status));
        return;
      }
      if (req.method === 'GET' && url.pathname === '/pins') {
        const cid = url.searchParams.get('cid');
        const results = [...pins.values()].filter(
          (p) => cid === null || cid.split(',').includes(p.pin.cid),
        );
        return send(res, 200, { count: results.length, results });
      }
      if (byId && req.method === 'GET') {
        const status = pins.get(decodeURIComponent(byId[1] as string));
        return status ? send(res, 200, status) : fail(res, 404, 'NOT_FOUND', 'no such pin request');
      }
      if (byId && req.method === 'DELETE') {
        const id = decodeURIComponent(byId[1] as string);
        const status = pins.get(id);
        if (!status) return fail(res, 404, 'NOT_FOUND', 'no such pin request');
        pins.delete(id);
        if (status.status === 'pinned')
          await options.kubo.unpin(CID.parse(status.pin.cid)).catch(() => undefined);
        return send(res, 202);
      }
      return fail(res, 404, 'NOT_FOUND', `${req.method ?? ''} ${url.pathname}`);
    })().catch((error: unknown) => {
      if (!res.headersSent) fail(res, 500, 'INTERNAL', (error as Error).message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    transitions,
    rateLimited: () => limited,
    close: async () => {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
