import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CustosService } from '../../app/service/index.ts';
import { startWebHost, type WebHost } from './host.ts';

let dir: string;
let service: CustosService;
let host: WebHost;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-web-'));
  await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>Custos</title>');
  await writeFile(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'outside the renderer');
  service = new CustosService({ vaultDir: join(dir, 'vault'), kdf: 'interactive' });
  host = await startWebHost({
    handlers: service.handlers,
    events: service,
    rendererDir: join(dir, 'renderer'),
  });
});
afterAll(async () => {
  await host.close();
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(host.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the API socket; resolves with the socket, or with the HTTP status that refused it. */
function connect(options: {
  token?: string;
  origin?: string;
  path?: string;
}): Promise<WebSocket | number> {
  const url = `${host.origin.replace('http', 'ws')}${options.path ?? '/api'}?token=${options.token ?? host.token}`;
  const ws = new WebSocket(url, { origin: options.origin ?? host.origin });
  return new Promise((resolve) => {
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

function rpc(ws: WebSocket, id: number, method: string, input: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg.result);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, method, input }));
  });
}

describe('loopback web host', () => {
  it('listens on 127.0.0.1 with a 256-bit token in the URL fragment', () => {
    expect(host.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(host.url).toBe(`${host.origin}/#token=${host.token}`);
    expect(Buffer.from(host.token, 'base64url')).toHaveLength(32);
  });

  it('serves the renderer with a CSP from default-src none', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>Custos</title>');
    expect(res.headers['content-security-policy']).toMatch(
      /^default-src 'none'; script-src 'self'/,
    );
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect((await get('/assets/app.js')).headers['content-type']).toMatch(/javascript/);
  });

  it('refuses a foreign Host (DNS rebinding) and paths outside the renderer', async () => {
    expect((await get('/', { Host: 'evil.example:80' })).status).toBe(421);
    expect((await get('/../secret.txt')).status).toBe(404);
    expect((await get('/%2e%2e/secret.txt')).status).toBe(404);
    expect((await get('/assets/../../secret.txt')).status).toBe(404);
  });

  it('refuses the API socket without the token, with a wrong token, or from a foreign origin', async () => {
    expect(await connect({ token: '' })).toBe(403);
    expect(await connect({ token: 'A'.repeat(43) })).toBe(403);
    expect(await connect({ origin: 'http://evil.example' })).toBe(403);
    expect(await connect({ origin: 'http://localhost:1' })).toBe(403);
    expect(await connect({ path: '/other' })).toBe(404);
  });

  it('answers named methods as data and forwards events', async () => {
    const ws = await connect({});
    if (typeof ws === 'number') throw new Error(`refused: ${ws}`);
    expect(await rpc(ws, 1, 'getStatus', {})).toMatchObject({
      ok: true,
      value: { vault: 'absent' },
    });
    expect(await rpc(ws, 2, 'noSuchMethod', {})).toMatchObject({
      ok: false,
      error: { tag: 'UsageError' },
    });
    const statusEvent = new Promise<unknown>((resolve) =>
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { event?: string; payload?: unknown };
        if (msg.event === 'status') resolve(msg.payload);
      }),
    );
    expect(
      await rpc(ws, 3, 'createVault', { passphrase: 'a long enough passphrase' }),
    ).toMatchObject({ ok: true });
    expect(await statusEvent).toMatchObject({ vault: 'unlocked' });
    ws.close();
  });
});
