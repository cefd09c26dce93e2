/**
 * Collateral from Intel's Provisioning Certification Service (PCS API v4) or a PCCS speaking the
 * same API, cached in memory and optionally on disk until the earliest nextUpdate of its parts.
 * Nothing fetched is trusted: the verifier authenticates every part (signatures, chains, CRLs), so
 * a cache file or a PCCS can at worst make verification fail, never make it pass.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import dcap from '@phala/dcap-qvl';
import { CustosError, isCustosError } from '../../app/errors/index.ts';
import { collateralValidUntil, parseCollateral, pemCertificates } from './collateral.ts';
import type { CollateralSource, QuoteCollateral } from './types.ts';

export const INTEL_PCS_URL = 'https://api.trustedservices.intel.com';
/** Where Intel publishes the root CA's CRL (the CRL distribution point of Intel SGX Root CA). */
export const INTEL_ROOT_CA_CRL_URL =
  'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';

export interface PcsOptions {
  /** Intel PCS (`INTEL_PCS_URL`) or a PCCS base URL (without `/sgx/certification/v4`). */
  readonly baseUrl: string;
  /**
   * Where to fetch the root CA CRL. Default: Intel's distribution point for Intel PCS, and
   * `<baseUrl>/sgx/certification/v4/rootcacrl` for a PCCS.
   */
  readonly rootCaCrlUrl?: string;
  /** A directory to keep fetched collateral in across runs. */
  readonly cacheDir?: string;
  /** Per-request timeout; default 10 s. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof globalThis.fetch;
}

interface CacheEntry {
  readonly validUntil: number;
  readonly collateral: QuoteCollateral;
}

/**
 * Returns the exact text of a top-level member of a JSON object, as it appears in `text` — Intel
 * signs the bytes of `tcbInfo` / `enclaveIdentity` as served, so they must not be re-serialised.
 */
export function rawJsonMember(text: string, key: string): string | null {
  let depth = 0;
  let i = 0;
  const skipString = (from: number): number => {
    let j = from + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      const end = skipString(i);
      if (depth === 1 && JSON.parse(text.slice(i, end)) === key) {
        let j = end;
        while (/\s/.test(text[j] ?? '')) j++;
        if (text[j] !== ':') {
          i = end;
          continue;
        }
        j++;
        while (/\s/.test(text[j] ?? '')) j++;
        const start = j;
        let d = 0;
        for (; j < text.length; j++) {
          const c = text[j];
          if (c === '"') {
            j = skipString(j) - 1;
            if (d === 0) return text.slice(start, j + 1);
          } else if (c === '{' || c === '[') d++;
          else if (c === '}' || c === ']') {
            d--;
            if (d === 0) return text.slice(start, j + 1);
            if (d < 0) return text.slice(start, j).trim();
          } else if (c === ',' && d === 0) return text.slice(start, j).trim();
        }
        return null;
      }
      i = end;
      continue;
    }
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    i++;
  }
  return null;
}

/** Decodes a CRL body: DER, or hex text (what a PCCS serves for the root CA CRL). */
function crlBytes(body: Uint8Array): string {
  const text = Buffer.from(body).toString('latin1').trim();
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return text.toLowerCase();
  return Buffer.from(body).toString('hex');
}

/** Collateral from Intel PCS or a PCCS, with a validity-aware cache. */
export class PcsCollateralSource implements CollateralSource {
  readonly #options: PcsOptions;
  readonly #base: string;
  readonly #memory = new Map<string, CacheEntry>();
  /** Requests made, for tests and diagnostics. */
  fetchCount = 0;

  constructor(options: PcsOptions) {
    this.#options = options;
    this.#base = options.baseUrl.replace(/\/+$/, '').replace(/\/(sgx|tdx)\/certification\/v4$/, '');
  }

  /**
   * Collateral for the quote's platform (FMSPC, PCK CA, TEE type): from the cache while valid at
   * `now`, else fetched. Throws CustosError `CollateralUnavailable` when the service cannot be
   * reached or answers badly, `AttestationInvalid` when the quote carries no PCK certificate.
   */
  async collateralFor(quote: Uint8Array, now: Date): Promise<QuoteCollateral> {
    let fmspc: string;
    let ca: string;
    let tee: 'sgx' | 'tdx';
    try {
      const parsed = dcap.Quote.parse(Buffer.from(quote));
      fmspc = Buffer.from(dcap.intel.getFmspc(parsed)).toString('hex').toUpperCase();
      const [leaf] = pemCertificates(Buffer.from(parsed.rawCertChain()).toString('latin1'));
      // dcap-qvl's own getCa falls back to "processor" when it cannot read the issuer; decide here.
      const issuer = leaf ? new X509Certificate(leaf).issuer : '';
      if (/CN=Intel SGX PCK Platform CA/.test(issuer)) ca = 'platform';
      else if (/CN=Intel SGX PCK Processor CA/.test(issuer)) ca = 'processor';
      else throw new Error(`unknown PCK certificate issuer "${issuer}"`);
      tee = parsed.header.isSgx() ? 'sgx' : 'tdx';
    } catch (error) {
      throw new CustosError(
        'AttestationInvalid',
        'cannot read the platform (FMSPC, PCK CA) of the quote',
        {
          cause: error,
        },
      );
    }
    const key = `${tee}-${ca}-${fmspc}`.replace(/[^A-Za-z0-9-]/g, '_');
    const cached = this.#memory.get(key) ?? (await this.#readDisk(key));
    if (cached && now.getTime() < cached.validUntil) {
      this.#memory.set(key, cached);
      return cached.collateral;
    }
    const collateral = await this.#fetchAll(tee, ca, fmspc);
    const validUntil = collateralValidUntil(collateral).getTime();
    if (now.getTime() < validUntil) {
      const entry = { validUntil, collateral };
      this.#memory.set(key, entry);
      await this.#writeDisk(key, entry);
    }
    return collateral;
  }

  async #get(url: string): Promise<{ body: Uint8Array; headers: Headers }> {
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    this.fetchCount++;
    let response: Response;
    try {
      response = await doFetch(url, {
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
        redirect: 'error',
      });
    } catch (error) {
      throw new CustosError('CollateralUnavailable', `cannot reach ${url}`, { cause: error });
    }
    if (!response.ok)
      throw new CustosError('CollateralUnavailable', `${url} answered HTTP ${response.status}`, {
        details: { status: response.status },
      });
    return { body: new Uint8Array(await response.arrayBuffer()), headers: response.headers };
  }

  #header(headers: Headers, names: readonly string[], url: string): string {
    for (const name of names) {
      const value = headers.get(name);
      if (value) return decodeURIComponent(value);
    }
    throw new CustosError('CollateralUnavailable', `${url} answered without ${names[0]}`);
  }

  #signed(text: string, member: string, url: string): { body: string; signature: string } {
    JSON.parse(text); // well-formed, before reading raw members out of it
    const body = rawJsonMember(text, member);
    const signature = rawJsonMember(text, 'signature');
    if (!body || !signature || !/^"[0-9a-fA-F]+"$/.test(signature))
      throw new CustosError('CollateralUnavailable', `${url} answered without ${member}`);
    return { body, signature: (JSON.parse(signature) as string).toLowerCase() };
  }

  async #fetchAll(tee: 'sgx' | 'tdx', ca: string, fmspc: string): Promise<QuoteCollateral> {
    const v4 = (t: string, path: string) => `${this.#base}/${t}/certification/v4/${path}`;
    const isPcs = this.#base.startsWith(INTEL_PCS_URL);
    const rootUrl =
      this.#options.rootCaCrlUrl ?? (isPcs ? INTEL_ROOT_CA_CRL_URL : v4('sgx', 'rootcacrl'));
    const urls = {
      pckCrl: v4('sgx', `pckcrl?ca=${encodeURIComponent(ca)}&encoding=der`),
      tcb: v4(tee, `tcb?fmspc=${fmspc}`),
      qe: v4(tee, 'qe/identity'),
    };
    try {
      const [pckCrl, tcb, qe, root] = await Promise.all([
        this.#get(urls.pckCrl),
        this.#get(urls.tcb),
        this.#get(urls.qe),
        this.#get(rootUrl),
      ]);
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const tcbInfo = this.#signed(decoder.decode(tcb.body), 'tcbInfo', urls.tcb);
      const qeIdentity = this.#signed(decoder.decode(qe.body), 'enclaveIdentity', urls.qe);
      // Round-trip through the file parser: one definition of well-formed collateral.
      return parseCollateral(
        JSON.stringify({
          pck_crl_issuer_chain: this.#header(
            pckCrl.headers,
            ['SGX-PCK-CRL-Issuer-Chain'],
            urls.pckCrl,
          ),
          root_ca_crl: crlBytes(root.body),
          pck_crl: crlBytes(pckCrl.body),
          tcb_info_issuer_chain: this.#header(
            tcb.headers,
            ['TCB-Info-Issuer-Chain', 'SGX-TCB-Info-Issuer-Chain'],
            urls.tcb,
          ),
          tcb_info: tcbInfo.body,
          tcb_info_signature: tcbInfo.signature,
          qe_identity_issuer_chain: this.#header(
            qe.headers,
            ['SGX-Enclave-Identity-Issuer-Chain'],
            urls.qe,
          ),
          qe_identity: qeIdentity.body,
          qe_identity_signature: qeIdentity.signature,
        }),
      );
    } catch (error) {
      if (isCustosError(error, 'CollateralUnavailable')) throw error;
      throw new CustosError('CollateralUnavailable', 'the collateral service answered badly', {
        cause: error,
      });
    }
  }

  async #readDisk(key: string): Promise<CacheEntry | undefined> {
    const dir = this.#options.cacheDir;
    if (!dir) return undefined;
    try {
      const json = JSON.parse(await readFile(join(dir, `${key}.json`), 'utf8')) as {
        validUntil?: unknown;
        collateral?: unknown;
      };
      if (typeof json.validUntil !== 'number') return undefined;
      return {
        validUntil: json.validUntil,
        collateral: parseCollateral(JSON.stringify(json.collateral)),
      };
    } catch {
      return undefined; // a missing or damaged cache file is simply a miss
    }
  }

  async #writeDisk(key: string, entry: CacheEntry): Promise<void> {
    const dir = this.#options.cacheDir;
    if (!dir) return;
    try {
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${key}.json`);
      await writeFile(`${path}.tmp`, JSON.stringify(entry));
      await rename(`${path}.tmp`, path);
    } catch {
      // The cache is an optimisation; failing to write it must not fail verification.
    }
  }
}

/** Collateral from a fixed value (offline: read from a file). */
export function fixedCollateral(collateral: QuoteCollateral): CollateralSource {
  return { collateralFor: () => Promise.resolve(collateral) };
}
