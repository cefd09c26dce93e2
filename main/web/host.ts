/**
 * The loopback web host: serves the built renderer and the API (app/api) over a WebSocket on
 * 127.0.0.1, for `npm start` on machines without an Electron runtime and for the e2e tests.
 *
 * Who may talk to it: only a page that was given the capability token (a random 256-bit value in
 * the URL fragment, which browsers never send to servers or in Referer) AND that is served from
 * this exact origin. Every request is checked for `Host: 127.0.0.1:<port>` (DNS rebinding), the
 * WebSocket upgrade for the exact `Origin` and the token (constant-time). The API is the contract's
 * named methods only; inputs are parsed by the contract's schemas before the core sees them.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  handle,
  type ApiHandlers,
  type EventName,
  type EventPayload,
} from '../../app/api/index.ts';

export const API_PATH = '/api';
// A usage-proof bundle to verify travels in one message (verifyProof: up to MAX_BUNDLE_CHARS of
// JSON, escaped, or a PDF report as base64). Only a page holding the token gets this far.
const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

export interface EventSource {
  onEvent(listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void): () => void;
}

export interface WebHostOptions {
  readonly handlers: ApiHandlers;
  readonly events: EventSource;
  /** The built renderer (index.html and assets). */
  readonly rendererDir: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** For tests only: a fixed token. */
  readonly token?: string;
}

export interface WebHost {
  /** The URL to open, with the capability token in the fragment. */
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** The Content-Security-Policy of the web host: nothing but our own scripts, styles and socket. */
export function webCsp(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${ws}${API_PATH}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(origin: string): Record<string, string> {
  return {
    'Content-Security-Policy': webCsp(origin),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), hid=(), serial=()',
  };
}

function sameToken(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the host on 127.0.0.1. */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const root = await realpath(options.rendererDir);
  let host = '';
  let origin = '';

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname);
    const path = normalize(join(root, relative));
    let body: Buffer | null = null;
    if (path.startsWith(root + sep)) {
      const real = await realpath(path).catch(() => null);
      if (real?.startsWith(root + sep) && (await stat(real)).isFile()) body = await readFile(real);
    }
    const headers = securityHeaders(origin);
    if (!body) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, {
        ...headers,
        'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
      })
      .end(body);
  }

  const server = createServer((req, res) => {
    if (req.headers.host !== host) {
      res.writeHead(421, { 'Content-Type': 'text/plain' }).end('wrong host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain' }).end('method not allowed');
      return;
    }
    serveStatic(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const refuse = (socket: Duplex, status: string): void => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://invalid');
    if (req.headers.host !== host) return refuse(socket, '421 Misdirected Request');
    if (url.pathname !== API_PATH) return refuse(socket, '404 Not Found');
    if (req.headers.origin !== origin) return refuse(socket, '403 Forbidden');
    if (!sameToken(url.searchParams.get('token'), token)) return refuse(socket, '403 Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  function serve(ws: WebSocket): void {
    const off = options.events.onEvent((event, payload) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
    });
    ws.on('close', off);
    ws.on('message', (data, isBinary) => {
      let message: unknown;
      try {
        message = isBinary || !Buffer.isBuffer(data) ? null : JSON.parse(data.toString('utf8'));
      } catch {
        message = null;
      }
      const id = (message as { id?: unknown } | null)?.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
        ws.close(1008, 'malformed message');
        return;
      }
      const { method, input } = message as { method?: unknown; input?: unknown };
      void handle(options.handlers, method, input).then((result) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, result }));
      });
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  origin = `http://${host}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
