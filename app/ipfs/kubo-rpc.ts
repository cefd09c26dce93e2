import { CID } from 'multiformats/cid';
import { CustosError } from '../errors/index.ts';
import { apiRoot, carUpload, unreachable } from './http.ts';

export interface KuboRpcOptions {
  /** The RPC API root, e.g. `http://127.0.0.1:5001`. */
  readonly apiUrl: string;
  /** Extra headers (a hospital's node behind an authenticating proxy). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per-request timeout for small calls (not for the CAR upload). Default 30 s. */
  readonly timeoutMs?: number;
}

interface KuboErrorBody {
  Message?: string;
  Code?: number;
  Type?: string;
}

/**
 * A kubo node reached over its RPC API (a hospital's own IPFS node). Blocks go in as a CAR through
 * `dag/import`, so kubo stores exactly our blocks and the CID cannot change (no re-chunking).
 */
export class KuboRpcBackend {
  readonly apiUrl: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;

  constructor(options: KuboRpcOptions) {
    this.apiUrl = apiRoot(options.apiUrl, 'the kubo API address');
    this.#headers = options.headers ?? {};
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * POSTs one RPC call and returns the response. Network failures and non-2xx answers become
   * StorageUnavailable carrying kubo's own message.
   */
  async #call(
    path: string,
    params: Record<string, string>,
    init: {
      body?: ReadableStream<Uint8Array>;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const query = new URLSearchParams(params).toString();
    const url = `${this.apiUrl}/api/v0/${path}${query ? `?${query}` : ''}`;
    const timeout = init.body ? undefined : AbortSignal.timeout(this.#timeoutMs);
    const signals = [init.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { ...this.#headers, ...init.headers },
        ...(init.body ? { body: init.body, duplex: 'half' } : {}),
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      });
    } catch (error) {
      throw unreachable(error, init.signal, `kubo at ${this.apiUrl}`, { apiUrl: this.apiUrl });
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let message = text.trim().slice(0, 300);
      try {
        message = (JSON.parse(text) as KuboErrorBody).Message ?? message;
      } catch {
        // not kubo's JSON error: keep the text
      }
      if (response.status === 404 || response.status === 405) {
        message = `no kubo RPC API at ${this.apiUrl} (HTTP ${response.status} for ${path})`;
      }
      throw new CustosError(
        'StorageUnavailable',
        `kubo ${path}: ${message || `HTTP ${response.status}`}`,
        {
          details: { apiUrl: this.apiUrl, status: response.status },
        },
      );
    }
    return response;
  }

  /** kubo's version string; a cheap reachability check. @throws StorageUnavailable */
  async version(signal?: AbortSignal): Promise<string> {
    const body = (await (await this.#call('version', {}, signal ? { signal } : {})).json()) as {
      Version?: string;
    };
    if (typeof body.Version !== 'string')
      throw new CustosError('StorageUnavailable', `${this.apiUrl} is not a kubo RPC API`);
    return body.Version;
  }

  /**
   * Uploads a CAR (streamed: constant memory) with `dag/import` and pins its root there.
   * @throws StorageUnavailable (kubo down / refuses), CidMismatch when kubo reports another root,
   *   PinFailed when kubo imported but could not pin.
   */
  async importCar(
    car: AsyncIterable<Uint8Array>,
    root: CID,
    signal?: AbortSignal,
    options: { pinRoots?: boolean } = {},
  ): Promise<void> {
    const pinRoots = options.pinRoots ?? true;
    const upload = carUpload(car);
    let response: Response;
    try {
      response = await this.#call(
        'dag/import',
        { 'pin-roots': String(pinRoots) },
        {
          body: upload.body,
          headers: { 'content-type': upload.contentType },
          ...(signal ? { signal } : {}),
        },
      );
    } catch (error) {
      throw upload.sourceError() ?? error;
    }
    const sourceError = upload.sourceError();
    if (sourceError) throw sourceError;
    const lines = (await response.text()).split('\n').filter((l) => l.trim() !== '');
    let sawRoot = false;
    for (const line of lines) {
      const entry = JSON.parse(line) as {
        Root?: { Cid?: { '/': string }; PinErrorMsg?: string };
        Message?: string;
      };
      if (entry.Message)
        throw new CustosError('StorageUnavailable', `kubo dag/import: ${entry.Message}`);
      if (!entry.Root) continue;
      const got = entry.Root.Cid?.['/'];
      if (got === undefined || !CID.parse(got).equals(root)) {
        throw new CustosError(
          'CidMismatch',
          `kubo imported root ${String(got)}, expected ${root.toString()}`,
        );
      }
      if (entry.Root.PinErrorMsg) {
        throw new CustosError(
          'PinFailed',
          `kubo could not pin ${root.toString()}: ${entry.Root.PinErrorMsg}`,
          {
            details: { cid: root.toString() },
          },
        );
      }
      sawRoot = true;
    }
    if (pinRoots && !sawRoot)
      throw new CustosError('PinFailed', `kubo did not report pinning ${root.toString()}`);
  }

  /**
   * Pins recursively. Online, kubo fetches whatever it lacks from its peers (and may wait for
   * them); `offline` makes it fail at once when a block is not already there.
   * @throws StorageUnavailable, PinFailed when kubo answers but refuses.
   */
  async pin(cid: CID, options: { offline?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const params: Record<string, string> = { arg: cid.toString(), recursive: 'true' };
    if (options.offline) params['offline'] = 'true';
    try {
      await this.#call('pin/add', params, options.signal ? { signal: options.signal } : {});
    } catch (error) {
      if (error instanceof CustosError && error.details['status'] !== undefined) {
        throw new CustosError('PinFailed', error.message, {
          cause: error,
          details: { cid: cid.toString() },
        });
      }
      throw error;
    }
  }

  /** Whether kubo holds a recursive pin on `cid` (asked with `pin/ls`, never assumed). */
  async isPinned(cid: CID, signal?: AbortSignal): Promise<boolean> {
    try {
      const body = (await (
        await this.#call(
          'pin/ls',
          { arg: cid.toString(), type: 'recursive' },
          signal ? { signal } : {},
        )
      ).json()) as { Keys?: Record<string, { Type?: string }> };
      return Object.entries(body.Keys ?? {}).some(
        ([k, v]) => CID.parse(k).equals(cid) && v.Type === 'recursive',
      );
    } catch (error) {
      // kubo answers 500 "... is not pinned" for an unpinned CID
      if (
        error instanceof CustosError &&
        error.details['status'] === 500 &&
        /not pinned/i.test(error.message)
      )
        return false;
      throw error;
    }
  }

  /** Whether kubo has this one block locally (no network lookup). */
  async hasBlock(cid: CID, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#call(
        'block/stat',
        { arg: cid.toString(), offline: 'true' },
        signal ? { signal } : {},
      );
      return true;
    } catch (error) {
      if (error instanceof CustosError && error.details['status'] === 500) return false;
      throw error;
    }
  }

  /** kubo's peer id and swarm addresses (each ending in `/p2p/<id>`). */
  async id(signal?: AbortSignal): Promise<{ id: string; addresses: string[] }> {
    const body = (await (await this.#call('id', {}, signal ? { signal } : {})).json()) as {
      ID?: string;
      Addresses?: string[] | null;
    };
    return { id: body.ID ?? '', addresses: body.Addresses ?? [] };
  }

  /** Asks kubo to connect to a peer (e.g. the node that has the blocks). @throws StorageUnavailable */
  async connect(address: string, signal?: AbortSignal): Promise<void> {
    await this.#call('swarm/connect', { arg: address }, signal ? { signal } : {});
  }

  /** Removes a recursive pin. */
  async unpin(cid: CID, signal?: AbortSignal): Promise<void> {
    await this.#call('pin/rm', { arg: cid.toString() }, signal ? { signal } : {});
  }

  /**
   * Pushes a dataset from a local store to this kubo node and confirms it is pinned there:
   * CAR via `dag/import` (pinning the root), then `pin/ls` must list it.
   * @throws BlockMissing / CidMismatch (local store incomplete or corrupt: nothing is sent as done),
   *   StorageUnavailable, PinFailed.
   */
  async publish(
    store: { exportCar(cid: CID, options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array> },
    cid: CID,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.importCar(store.exportCar(cid, signal ? { signal } : {}), cid, signal);
    if (!(await this.isPinned(cid, signal))) {
      throw new CustosError(
        'PinFailed',
        `kubo does not list ${cid.toString()} as pinned after import`,
        {
          details: { cid: cid.toString() },
        },
      );
    }
  }
}
