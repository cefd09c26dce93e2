import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collateralBytes } from './collateral.ts';
import { PcsCollateralSource, rawJsonMember } from './pcs.ts';
import { sgxVector, tdxVector, type QuoteVector } from './testing.ts';
import { verify } from './verify.ts';

const sgx = sgxVector();
const tdx = tdxVector();

/**
 * A PCCS on loopback serving one vector's real collateral (the PCCS as it was when the quote was
 * verified) the way Intel's PCS API v4 does: CRLs as DER (the root CA CRL as hex text, as a PCCS
 * does), TCB Info and QE Identity as the signed JSON bodies, issuer chains URL-encoded in headers.
 * For SGX it serves Intel's own bodies byte for byte.
 */
class LoopbackPccs {
  readonly requests: string[] = [];
  failWith: number | null = null;
  readonly #vector: QuoteVector;
  #server: Server | null = null;
  #sgxBodies: { tcb: string; qe: string } | null = null;

  constructor(vector: QuoteVector) {
    this.#vector = vector;
  }

  async start(): Promise<string> {
    if (this.#vector === sgx) {
      const dir = new URL('./vectors/sgx-automata-v3/', import.meta.url);
      this.#sgxBodies = {
        tcb: await readFile(new URL('pcs-tcb-info.txt', dir), 'utf8'),
        qe: await readFile(new URL('pcs-qe-identity.txt', dir), 'utf8'),
      };
    }
    this.#server = createServer((req, res) => this.#answer(req, res));
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${url.pathname}${url.search}`);
    if (this.failWith !== null) {
      res.writeHead(this.failWith).end();
      return;
    }
    const m = /^\/(sgx|tdx)\/certification\/v4\/(pckcrl|tcb|qe\/identity|rootcacrl)$/.exec(
      url.pathname,
    );
    const v = this.#vector;
    const c = v.collateral;
    const enc = encodeURIComponent;
    switch (m?.[2]) {
      case 'pckcrl':
        if (url.searchParams.get('ca') !== 'platform' || url.searchParams.get('encoding') !== 'der')
          break;
        res.writeHead(200, { 'SGX-PCK-CRL-Issuer-Chain': enc(c.pck_crl_issuer_chain) });
        res.end(collateralBytes(c.pck_crl));
        return;
      case 'rootcacrl':
        res.writeHead(200).end(Buffer.from(collateralBytes(c.root_ca_crl)).toString('hex'));
        return;
      case 'tcb': {
        const body =
          v === sgx
            ? this.#sgxBodies?.tcb
            : `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature as string}"}`;
        res.writeHead(200, { 'TCB-Info-Issuer-Chain': enc(c.tcb_info_issuer_chain) }).end(body);
        return;
      }
      case 'qe/identity': {
        const body =
          v === sgx
            ? this.#sgxBodies?.qe
            : `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature as string}"}`;
        res
          .writeHead(200, { 'SGX-Enclave-Identity-Issuer-Chain': enc(c.qe_identity_issuer_chain) })
          .end(body);
        return;
      }
    }
    res.writeHead(404).end();
  }
}

describe('collateral from a PCCS (loopback HTTP)', () => {
  const pccs = new LoopbackPccs(sgx);
  const tdxPccs = new LoopbackPccs(tdx);
  let baseUrl = '';
  let tdxUrl = '';
  let cacheDir = '';
  beforeAll(async () => {
    baseUrl = await pccs.start();
    tdxUrl = await tdxPccs.start();
    cacheDir = await mkdtemp(join(tmpdir(), 'custos-pccs-'));
  });
  afterAll(async () => {
    await pccs.stop();
    await tdxPccs.stop();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('fetches exactly the collateral of the file for SGX (Intel’s own bodies) and TDX', async () => {
    const source = new PcsCollateralSource({ baseUrl });
    expect(await source.collateralFor(sgx.quote, sgx.now)).toEqual(sgx.collateral);
    expect(pccs.requests).toContain('/sgx/certification/v4/tcb?fmspc=00606A000000');
    expect(pccs.requests).toContain('/sgx/certification/v4/pckcrl?ca=platform&encoding=der');
    const tdxSource = new PcsCollateralSource({ baseUrl: tdxUrl });
    expect(await tdxSource.collateralFor(tdx.quote, tdx.now)).toEqual(tdx.collateral);
    expect(tdxPccs.requests).toContain('/tdx/certification/v4/tcb?fmspc=20A06F000000');
    expect(tdxPccs.requests).toContain('/tdx/certification/v4/qe/identity');
  });

  it('fetched collateral verifies the quotes through the policy', async () => {
    const source = new PcsCollateralSource({ baseUrl: `${tdxUrl}/sgx/certification/v4/` });
    const v = await verify(
      { kind: 'dcap', quote: tdx.quote },
      { network: 'mainnet', collateral: source },
      tdx.now,
    );
    expect(v.ok).toBe(true);
    expect(v.tcbStatus).toBe('UpToDate');
  });

  it('caches until the collateral’s validity ends, in memory and on disk', async () => {
    const source = new PcsCollateralSource({ baseUrl, cacheDir });
    await source.collateralFor(sgx.quote, sgx.now);
    expect(source.fetchCount).toBe(4);
    await source.collateralFor(sgx.quote, new Date('2025-09-14T04:36:45Z'));
    expect(source.fetchCount).toBe(4);
    // A new process (new instance) reads the disk cache.
    const again = new PcsCollateralSource({ baseUrl, cacheDir });
    expect(await again.collateralFor(sgx.quote, sgx.now)).toEqual(sgx.collateral);
    expect(again.fetchCount).toBe(0);
    // At the end of validity (QE Identity nextUpdate) it fetches again.
    await again.collateralFor(sgx.quote, new Date('2025-09-14T04:36:46Z'));
    expect(again.fetchCount).toBe(4);
  });

  it('an unreachable or failing service is CollateralUnavailable, and so is the verdict', async () => {
    pccs.failWith = 503;
    try {
      const source = new PcsCollateralSource({ baseUrl });
      await expect(source.collateralFor(tdx.quote, tdx.now)).rejects.toMatchObject({
        tag: 'CollateralUnavailable',
      });
      const v = await verify(
        { kind: 'dcap', quote: tdx.quote },
        { network: 'mainnet', collateral: source },
        tdx.now,
      );
      expect(v.reason?.tag).toBe('CollateralUnavailable');
    } finally {
      pccs.failWith = null;
    }
    const closed = new PcsCollateralSource({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 });
    await expect(closed.collateralFor(tdx.quote, tdx.now)).rejects.toMatchObject({
      tag: 'CollateralUnavailable',
    });
  });
});

describe('rawJsonMember', () => {
  it('returns a member’s exact text, not a re-serialisation', () => {
    const text = '{ "signature" : "ab", "tcbInfo" : {"b":1, "a":[1,{"x":"}"}]} }';
    expect(rawJsonMember(text, 'tcbInfo')).toBe('{"b":1, "a":[1,{"x":"}"}]}');
    expect(rawJsonMember(text, 'signature')).toBe('"ab"');
    expect(rawJsonMember(text, 'x')).toBeNull();
    expect(rawJsonMember('{"a":{"tcbInfo":1}}', 'tcbInfo')).toBeNull();
  });
});
