/**
 * The key-release service over HTTP (loopback by default). Routes:
 *   POST /v1/challenge → ChallengeResponse
 *   POST /v1/release   → ReleaseResponse, or { ok:false, error:{ tag, message } } with 4xx/5xx
 *   GET  /v1/health    → { ok: true, protocol }
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustosError, isCustosError } from '../../app/errors/index.ts';
import { PROTOCOL_VERSION } from './protocol.ts';
import { httpStatusOf, type KeyReleaseService } from './service.ts';

const MAX_BODY = 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CustosError('UsageError', `request body over ${MAX_BODY} bytes`);
    parts.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
  } catch {
    throw new CustosError('UsageError', 'request body is not JSON');
  }
}

export interface RunningKeyReleaseServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Serves `service` on `host:port` (default 127.0.0.1, a free port). */
export async function serveKeyRelease(
  service: KeyReleaseService,
  options: { host?: string; port?: number } = {},
): Promise<RunningKeyReleaseServer> {
  const server = createServer((req, res) => {
    const client = req.socket.remoteAddress ?? 'unknown';
    void (async () => {
      try {
        if (req.method === 'GET' && req.url === '/v1/health')
          return send(res, 200, { ok: true, protocol: PROTOCOL_VERSION });
        if (req.method === 'POST' && req.url === '/v1/challenge') {
          await readJson(req).catch(() => undefined); // an empty or any body is fine
          return send(res, 200, service.challenge(client));
        }
        if (req.method === 'POST' && req.url === '/v1/release')
          return send(res, 200, await service.release(await readJson(req), client));
        return send(res, 404, {
          ok: false,
          error: { tag: 'NotFound', message: `no route ${req.method ?? ''} ${req.url ?? ''}` },
        });
      } catch (error) {
        const e = isCustosError(error)
          ? error
          : new CustosError('Internal', 'internal error', { cause: error });
        return send(res, httpStatusOf(e.tag), {
          ok: false,
          error: { tag: e.tag, message: e.message },
        });
      }
    })();
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
