/**
 * The UI's handle on the core. In Electron the preload exposes `window.custos` (exactly the
 * contract's methods); in a browser the same methods go over the loopback host's WebSocket, with
 * the capability token taken from the URL fragment. Either way the UI sees `CustosApi`, and a
 * failed call rejects with `ApiCallError`, rebuilt from the error's tag.
 */
import type {
  ApiError,
  ApiResult,
  CustosApi,
  ErrorTag,
  EventName,
  EventPayload,
  MethodName,
} from '../../../app/api/index.ts';

/** A failed call: the tag, the technical message, details, and the sentence for the steward. */
export class ApiCallError extends Error {
  readonly tag: ErrorTag;
  readonly details: ApiError['details'];
  readonly explanation: string;

  constructor(error: ApiError) {
    super(error.message);
    this.name = `ApiCallError(${error.tag})`;
    this.tag = error.tag;
    this.details = error.details;
    this.explanation = error.explanation;
  }
}

/** Every method, listed once; `satisfies` makes the compiler reject a missing or unknown name. */
const METHOD_NAMES = {
  getStatus: true,
  createVault: true,
  unlock: true,
  unlockRemembered: true,
  forgetDevice: true,
  unlockWithRecoveryKey: true,
  lock: true,
  touch: true,
  listDatasets: true,
  getDataset: true,
  chooseImportFile: true,
  previewImport: true,
  startImport: true,
  getImport: true,
  cancelImport: true,
  publishDataset: true,
  listEnclaveApps: true,
  listContacts: true,
  listGrants: true,
  createGrant: true,
  revokeGrant: true,
  revokeAllGrants: true,
  queryAudit: true,
  exportProof: true,
  readProofFile: true,
  verifyProof: true,
  getSettings: true,
  setAutoLock: true,
  setStorageOptions: true,
  restartNetwork: true,
  addStorageBackend: true,
  removeStorageBackend: true,
  renameContact: true,
  stopDeviceWait: true,
  answerEmulatedDevice: true,
} as const satisfies Record<MethodName, true>;

type Listener = (payload: unknown) => void;

/** Raised when the connection to the core is lost (not a core error: it has no tag). */
export class ConnectionLost extends Error {
  constructor() {
    super('The connection to Custos was lost. Reload the window; if it persists, restart Custos.');
    this.name = 'ConnectionLost';
  }
}

/** Connects to the loopback web host that served this page. */
export function connectWebApi(token: string, onClose: () => void): Promise<CustosApi> {
  const url = `${location.origin.replace(/^http/, 'ws')}/api?token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(url);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<Listener>>();
  let nextId = 1;
  let opened = false;

  ws.addEventListener('message', (message: MessageEvent<string>) => {
    const data = JSON.parse(message.data) as {
      id?: number;
      result?: ApiResult<unknown>;
      event?: string;
      payload?: unknown;
    };
    if (typeof data.id === 'number' && data.result) {
      const call = pending.get(data.id);
      pending.delete(data.id);
      if (data.result.ok) call?.resolve(data.result.value);
      else call?.reject(new ApiCallError(data.result.error));
    } else if (typeof data.event === 'string') {
      for (const listener of listeners.get(data.event) ?? []) listener(data.payload);
    }
  });
  ws.addEventListener('close', () => {
    for (const call of pending.values()) call.reject(new ConnectionLost());
    pending.clear();
    if (opened) onClose();
  });

  const call = (method: MethodName, input: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (ws.readyState !== WebSocket.OPEN) return reject(new ConnectionLost());
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, input }));
    });

  const api = Object.fromEntries(
    (Object.keys(METHOD_NAMES) as MethodName[]).map((name) => [
      name,
      (input: unknown) => call(name, input),
    ]),
  ) as unknown as Omit<CustosApi, 'on'>;

  const on = <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => {
    const set = listeners.get(event) ?? new Set<Listener>();
    listeners.set(event, set);
    set.add(listener as Listener);
    return () => {
      set.delete(listener as Listener);
    };
  };

  return new Promise((resolve, reject) => {
    ws.addEventListener(
      'open',
      () => {
        opened = true;
        resolve({ ...api, on });
      },
      { once: true },
    );
    ws.addEventListener('error', () => reject(new ConnectionLost()), { once: true });
  });
}

/** The preload's bridge in Electron, whose calls reject with `{tag,…}` data; wrapped to ApiCallError. */
export function wrapPreloadApi(bridge: CustosApi): CustosApi {
  const wrapped = Object.fromEntries(
    (Object.keys(METHOD_NAMES) as MethodName[]).map((name) => [
      name,
      async (input: unknown) => {
        const result = await (
          bridge[name] as unknown as (i: unknown) => Promise<ApiResult<unknown>>
        )(input);
        if (!result.ok) throw new ApiCallError(result.error);
        return result.value;
      },
    ]),
  );
  return { ...wrapped, on: bridge.on } as unknown as CustosApi;
}
