import { setTimeout as delay } from 'node:timers/promises';
import type { CID } from 'multiformats/cid';
import { z } from 'zod';
import { CustosError } from '../errors/index.ts';
import { apiRoot, unreachable } from './http.ts';

/**
 * A client for the IPFS Pinning Service API (https://ipfs.github.io/pinning-services-api-spec/):
 * Pinata, Filebase, web3.storage-style services, or a hospital's own. Create a pin, then poll its
 * status `queued → pinning → pinned | failed`. Nothing is reported pinned unless the service says
 * `pinned`.
 */

export const PIN_STATUSES = ['queued', 'pinning', 'pinned', 'failed'] as const;
export type PinState = (typeof PIN_STATUSES)[number];

const PinStatusSchema = z.object({
  requestid: z.string().min(1),
  status: z.enum(PIN_STATUSES),
  created: z.string(),
  pin: z.object({
    cid: z.string(),
    name: z.string().optional(),
    origins: z.array(z.string()).optional(),
    meta: z.record(z.string(), z.string()).optional(),
  }),
  delegates: z.array(z.string()),
  info: z.record(z.string(), z.string()).optional(),
});
export type PinStatus = z.infer<typeof PinStatusSchema>;

const PinResultsSchema = z.object({
  count: z.number().int().nonnegative(),
  results: z.array(PinStatusSchema),
});

const FailureSchema = z.object({
  error: z.object({ reason: z.string(), details: z.string().optional() }),
});

export interface PinningServiceOptions {
  /** API root, e.g. `https://api.pinata.cloud/psa` (requests go to `<endpoint>/pins`). */
  readonly endpoint: string;
  /** Bearer access token. */
  readonly token: string;
  /** Time between status polls. Default 2 s. */
  readonly pollIntervalMs?: number;
  /** Per-request timeout. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

export interface WaitOptions {
  /** Give up (PinTimeout) after this long. Default 10 minutes. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called on every status seen (for progress display). */
  readonly onStatus?: (status: PinStatus) => void;
}

export class PinningServiceClient {
  readonly endpoint: string;
  readonly #token: string;
  readonly #pollIntervalMs: number;
  readonly #requestTimeoutMs: number;

  constructor(options: PinningServiceOptions) {
    this.endpoint = apiRoot(options.endpoint, 'the pinning service address');
    this.#token = options.token;
    this.#pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /**
   * One API call. 401/403 → StorageUnauthorized, 429 → StorageRateLimited (details.retryAfter
   * in seconds when the service says), other failures → StorageUnavailable with the service's reason.
   */
  async #request(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const signals = [AbortSignal.timeout(this.#requestTimeoutMs), ...(signal ? [signal] : [])];
    let response: Response;
    try {
      response = await fetch(`${this.endpoint}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      throw unreachable(error, signal, `pinning service ${this.endpoint}`, {
        endpoint: this.endpoint,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) return json;
    const parsed = FailureSchema.safeParse(json);
    const reason = parsed.success
      ? `${parsed.data.error.reason}${parsed.data.error.details ? `: ${parsed.data.error.details}` : ''}`
      : `HTTP ${response.status}`;
    const details = { endpoint: this.endpoint, status: response.status };
    if (response.status === 401 || response.status === 403) {
      throw new CustosError(
        'StorageUnauthorized',
        `pinning service refused the access token (${reason})`,
        { details },
      );
    }
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new CustosError(
        'StorageRateLimited',
        `pinning service is rate-limiting requests (${reason})`,
        {
          details: { ...details, retryAfter: Number.isFinite(retryAfter) ? retryAfter : null },
        },
      );
    }
    throw new CustosError('StorageUnavailable', `pinning service ${method} ${path}: ${reason}`, {
      details,
    });
  }

  #parseStatus(json: unknown): PinStatus {
    const parsed = PinStatusSchema.safeParse(json);
    if (!parsed.success) {
      throw new CustosError(
        'StorageUnavailable',
        `pinning service answered something that is not a PinStatus`,
        {
          details: { endpoint: this.endpoint },
        },
      );
    }
    return parsed.data;
  }

  /**
   * Asks the service to pin `cid`. `origins` are multiaddrs of peers that have the blocks (our
   * node), so the service can fetch them directly.
   * @throws StorageUnauthorized, StorageRateLimited, StorageUnavailable
   */
  async addPin(
    cid: CID,
    options: {
      name?: string;
      origins?: readonly string[];
      meta?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<PinStatus> {
    const body = {
      cid: cid.toString(),
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.origins === undefined ? {} : { origins: [...options.origins] }),
      ...(options.meta === undefined ? {} : { meta: options.meta }),
    };
    const status = this.#parseStatus(await this.#request('POST', '/pins', body, options.signal));
    if (status.pin.cid !== cid.toString()) {
      throw new CustosError(
        'CidMismatch',
        `pinning service accepted ${status.pin.cid}, not ${cid.toString()}`,
      );
    }
    return status;
  }

  /** The current status of a pin request. */
  async getPin(requestid: string, signal?: AbortSignal): Promise<PinStatus> {
    return this.#parseStatus(
      await this.#request('GET', `/pins/${encodeURIComponent(requestid)}`, undefined, signal),
    );
  }

  /** Pin requests for `cid` (any status). */
  async findPins(cid: CID, signal?: AbortSignal): Promise<PinStatus[]> {
    const json = await this.#request(
      'GET',
      `/pins?cid=${encodeURIComponent(cid.toString())}`,
      undefined,
      signal,
    );
    const parsed = PinResultsSchema.safeParse(json);
    if (!parsed.success)
      throw new CustosError('StorageUnavailable', 'pinning service answered a malformed pin list');
    return parsed.data.results;
  }

  /** Deletes a pin request (the service unpins). */
  async removePin(requestid: string, signal?: AbortSignal): Promise<void> {
    await this.#request('DELETE', `/pins/${encodeURIComponent(requestid)}`, undefined, signal);
  }

  /**
   * Polls a request until it is `pinned`. A 429 while polling waits (Retry-After, else the poll
   * interval) and polls again.
   * @throws PinFailed (status `failed`, with the service's info), PinTimeout, Cancelled,
   *   StorageUnauthorized, StorageUnavailable.
   */
  async waitPinned(requestid: string, options: WaitOptions = {}): Promise<PinStatus> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    let last: PinState | undefined;
    for (;;) {
      let wait = this.#pollIntervalMs;
      try {
        const status = await this.getPin(requestid, options.signal);
        last = status.status;
        options.onStatus?.(status);
        if (status.status === 'pinned') return status;
        if (status.status === 'failed') {
          const why = status.info ? Object.values(status.info).join('; ') : 'no reason given';
          throw new CustosError(
            'PinFailed',
            `pinning service failed to pin ${status.pin.cid}: ${why}`,
            {
              details: { cid: status.pin.cid, requestid },
            },
          );
        }
      } catch (error) {
        if (!(error instanceof CustosError && error.tag === 'StorageRateLimited')) throw error;
        const retryAfter = error.details['retryAfter'];
        if (typeof retryAfter === 'number') wait = Math.max(wait, retryAfter * 1000);
      }
      if (Date.now() + wait > deadline) {
        throw new CustosError(
          'PinTimeout',
          `pin ${requestid} still ${last ?? 'unknown'} when the wait ran out`,
          {
            details: { requestid, status: last ?? null },
          },
        );
      }
      try {
        await delay(wait, undefined, options.signal ? { signal: options.signal } : {});
      } catch (error) {
        throw new CustosError('Cancelled', 'cancelled', { cause: error });
      }
    }
  }

  /** `addPin` then `waitPinned`. */
  async pin(
    cid: CID,
    options: WaitOptions & {
      name?: string;
      origins?: readonly string[];
      meta?: Record<string, string>;
    } = {},
  ): Promise<PinStatus> {
    const created = await this.addPin(cid, {
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.origins === undefined ? {} : { origins: options.origins }),
      ...(options.meta === undefined ? {} : { meta: options.meta }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    options.onStatus?.(created);
    if (created.status === 'pinned') return created;
    if (created.status === 'failed') {
      throw new CustosError('PinFailed', `pinning service refused to pin ${cid.toString()}`, {
        details: { cid: cid.toString(), requestid: created.requestid },
      });
    }
    return this.waitPinned(created.requestid, options);
  }
}
