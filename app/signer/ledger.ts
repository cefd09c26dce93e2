import {
  getAddress,
  getBytes,
  hexlify,
  Signature,
  Transaction,
  TypedDataEncoder,
  toUtf8Bytes,
  type TransactionLike,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { CustosError, isCustosError } from '../errors/index.ts';
import {
  DeviceStateMachine,
  eventForError,
  type DeviceAction,
  type DeviceState,
  type DeviceStateListener,
} from './device-state.ts';
import { Eth, type Transport } from './ledger-libs.ts';
import type { Signer, TypedDataTypes } from './signer.ts';
import { EIP712_FULL_MIN_VERSION, errorForStatus, SW } from './status.ts';

/**
 * Ledger's hosted services, all switched off: the clear-signing metadata (tokens, plugins, EIP-712
 * filters) they provide is fetched from the Internet and Custos never asks for it. Transactions
 * are signed with a resolution of `null`, typed data without filters.
 */
export const OFFLINE = {
  nftExplorerBaseURL: null,
  pluginBaseURL: null,
  extraPlugins: null,
  cryptoassetsBaseURL: null,
  calServiceURL: null,
  staticERC20Signatures: null,
  staticEIP712SignaturesV1: null,
  staticEIP712SignaturesV2: null,
} as const;

export interface LedgerSignerOptions {
  /** Opens a transport to the device: node-hid in production, the emulator in tests. */
  readonly openTransport: () => Promise<Transport>;
  /** BIP-32 path of the account, default "44'/60'/0'/0/0". */
  readonly path?: string;
  /** The address stored for this vault: a device holding another account is refused. */
  readonly expectedAddress?: string;
  /** Limit for calls that need no user action (app check, address read). Default 10 s. */
  readonly timeoutMs?: number;
  readonly label?: string;
}

/** How the last typed-data signature was presented on the device. */
export interface TypedDataReport {
  readonly display: 'fields' | 'hashes';
  /** Why the fields could not be shown, when display is 'hashes'. */
  readonly reason: string | null;
}

interface Session {
  readonly transport: Transport;
  readonly eth: Eth;
  readonly appVersion: string;
}

function versionAtLeast(version: string, min: readonly [number, number, number]): boolean {
  const parts = version.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const a = parts[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * hw-app-eth 7.9 sends a string/bytes value of n bytes (n + 2 with its length prefix) in
 * ceil((n + 2) / 256) slices of 255 bytes, which drops the tail when n + 2 > 255 · slices
 * (n = 254, 509, 510, …): the device then refuses the value. Such messages go to the hashed path.
 */
export function lostBySlicing(byteLength: number): boolean {
  const n = byteLength + 2;
  return n > 255 * Math.ceil(n / 256);
}

function longestUnsendableField(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  message: Record<string, unknown>,
): number | null {
  const lengths: number[] = [domain.name, domain.version]
    .filter((v): v is string => typeof v === 'string')
    .map((v) => toUtf8Bytes(v).length);
  TypedDataEncoder.from(types).visit(message, (type, value: unknown): unknown => {
    if (type === 'string' && typeof value === 'string') lengths.push(toUtf8Bytes(value).length);
    if (type === 'bytes') lengths.push(getBytes(value as string).length);
    return value;
  });
  const bad = lengths.filter(lostBySlicing);
  return bad.length > 0 ? Math.max(...bad) : null;
}

function statusOf(error: unknown): number | null {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : null;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** Turns anything the Ledger stack throws into a tagged error. */
export function deviceError(error: unknown, context: string): CustosError {
  if (isCustosError(error)) return error;
  const sw = statusOf(error);
  if (sw !== null)
    return errorForStatus(sw, context) ?? new CustosError('DeviceError', context, { cause: error });
  switch (nameOf(error)) {
    case 'DisconnectedDevice':
    case 'DisconnectedDeviceDuringOperation':
      return new CustosError('DeviceDisconnected', `the Ledger was disconnected ${context}`, {
        cause: error,
      });
    case 'TransportRaceCondition':
      return new CustosError('DeviceBusy', `the Ledger is busy ${context}`, { cause: error });
    case 'LockedDeviceError':
      return new CustosError('DeviceLocked', `the Ledger is locked (${context})`, { cause: error });
    case 'EthAppPleaseEnableContractData':
      return new CustosError(
        'BlindSigningRequired',
        `the Ethereum app refuses contract data ${context}`,
        {
          cause: error,
        },
      );
    default:
      return new CustosError(
        'DeviceError',
        `${context}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
  }
}

/**
 * Signs with a Ledger through `@ledgerhq/hw-app-eth`. One request at a time (a queue); calls that
 * need the user have no timeout, the others do. Every call first checks that the Ethereum app is
 * open, and the account address is shown and confirmed on the device before it is first used.
 * Failures move the device state to locked / wrong-app / disconnected / rejected / error; calling
 * again is the retry (a lost transport is reopened).
 */
export class LedgerSigner implements Signer {
  readonly kind = 'ledger' as const;
  readonly label: string;
  private readonly options: LedgerSignerOptions;
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly machine = new DeviceStateMachine();
  private session: Session | null = null;
  private confirmedAddress: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Display mode of the last typed-data signature: the UI says so when it was 'hashes'. */
  lastTypedData: TypedDataReport | null = null;

  constructor(options: LedgerSignerOptions) {
    this.options = options;
    this.path = (options.path ?? "44'/60'/0'/0/0").replace(/^m\//, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.label = options.label ?? `Ledger (${this.path})`;
  }

  get state(): DeviceState {
    return this.machine.state;
  }

  /** Subscribes to device states; returns the unsubscribe function. */
  onState(listener: DeviceStateListener): () => void {
    return this.machine.subscribe(listener);
  }

  /**
   * @throws CustosError DeviceNotFound | DeviceDisconnected | DeviceLocked | WrongApp | UserRejected
   *   | DeviceAddressMismatch | DeviceTimeout | DeviceError
   */
  address(): Promise<string> {
    return this.enqueue(null, async () => (await this.ready()).address);
  }

  /**
   * Clear-signs EIP-712 typed data (every field shown on the device). Where the app cannot (too
   * old, or the schema does not fit in its memory) it falls back to the hashed variant and records
   * that in `lastTypedData` and in the confirm-on-device state's note.
   * @throws CustosError UserRejected | BlindSigningRequired | DeviceLocked | WrongApp | DeviceDisconnected | …
   */
  signTypedData(
    domain: TypedDataDomain,
    types: TypedDataTypes,
    message: Record<string, unknown>,
  ): Promise<string> {
    const action: DeviceAction = 'sign-typed-data';
    return this.enqueue(action, async () => {
      const { session } = await this.ready();
      const mutableTypes = Object.fromEntries(Object.entries(types).map(([k, v]) => [k, [...v]]));
      const payload: unknown = TypedDataEncoder.getPayload(domain, mutableTypes, message);
      let reason: string;
      const unsendable = longestUnsendableField(domain, mutableTypes, message);
      if (!versionAtLeast(session.appVersion, EIP712_FULL_MIN_VERSION)) {
        reason = `Ethereum app ${session.appVersion} cannot show typed-data fields (needs ${EIP712_FULL_MIN_VERSION.join('.')})`;
      } else if (unsendable !== null) {
        reason = `a ${unsendable}-byte field cannot be sent to the Ledger field by field`;
      } else {
        this.machine.dispatch({ type: 'awaiting-user', action, display: 'fields' });
        try {
          const result = await session.eth.signEIP712Message(this.path, payload as never);
          this.lastTypedData = { display: 'fields', reason: null };
          return this.finish(
            action,
            Signature.from({ r: `0x${result.r}`, s: `0x${result.s}`, v: result.v }).serialized,
          );
        } catch (error) {
          const sw = statusOf(error);
          if (sw === SW.NOT_ENOUGH_MEMORY)
            reason = 'the message is too large for this Ledger to show field by field';
          else if (sw === SW.INS_NOT_SUPPORTED)
            reason = 'this Ethereum app cannot show typed-data fields';
          else throw error;
        }
      }
      // Fallback: the device shows the two hashes only. Said to the user in the state.
      this.machine.dispatch({ type: 'awaiting-user', action, display: 'hashes', note: reason });
      const domainSeparator = TypedDataEncoder.hashDomain(domain);
      const structHash = TypedDataEncoder.from(mutableTypes).hash(message);
      try {
        const result = await session.eth.signEIP712HashedMessage(
          this.path,
          domainSeparator,
          structHash,
        );
        this.lastTypedData = { display: 'hashes', reason };
        return this.finish(
          action,
          Signature.from({ r: `0x${result.r}`, s: `0x${result.s}`, v: result.v }).serialized,
        );
      } catch (error) {
        if (statusOf(error) === SW.INCORRECT_DATA) {
          throw new CustosError(
            'BlindSigningRequired',
            `${reason ?? 'fields cannot be shown'}; hashed signing is disabled`,
            {
              cause: error,
            },
          );
        }
        throw error;
      }
    });
  }

  /**
   * Signs an unsigned transaction. The resolution passed to the app is `null`: nothing is looked up
   * on Ledger's services; contract calls need "Blind signing" on the device.
   * @throws CustosError UserRejected | BlindSigningRequired | SignatureInvalid | DeviceLocked | …
   */
  signTransaction(txLike: TransactionLike<string>): Promise<string> {
    const action: DeviceAction = 'sign-transaction';
    return this.enqueue(action, async () => {
      const { session, address } = await this.ready();
      const tx = Transaction.from({ ...txLike, signature: null });
      if (tx.chainId === 0n)
        throw new CustosError('UsageError', 'a transaction to sign needs its chainId');
      this.machine.dispatch({ type: 'awaiting-user', action });
      let result: { r: string; s: string; v: string };
      try {
        result = await session.eth.signTransaction(this.path, tx.unsignedSerialized.slice(2), null);
      } catch (error) {
        if (
          statusOf(error) === SW.INCORRECT_DATA ||
          nameOf(error) === 'EthAppPleaseEnableContractData'
        ) {
          throw new CustosError(
            'BlindSigningRequired',
            'enable "Blind signing" in the Ethereum app to sign this contract call',
            {
              cause: error,
            },
          );
        }
        throw error;
      }
      const v = BigInt(`0x${result.v}`);
      tx.signature = Signature.from({
        r: `0x${result.r}`,
        s: `0x${result.s}`,
        ...(tx.type === 0 ? { v } : { yParity: Number(v) as 0 | 1 }),
      });
      // Never hand out a transaction whose signature is not this account's.
      if (tx.from !== address) {
        throw new CustosError(
          'SignatureInvalid',
          'the device signature does not match the account',
          {
            details: { expected: address, got: tx.from ?? '' },
          },
        );
      }
      return this.finish(action, tx.serialized);
    });
  }

  /** @throws CustosError UserRejected | DeviceLocked | WrongApp | DeviceDisconnected | … */
  signPersonalMessage(message: string | Uint8Array): Promise<string> {
    const action: DeviceAction = 'sign-personal-message';
    return this.enqueue(action, async () => {
      const { session } = await this.ready();
      const bytes = typeof message === 'string' ? toUtf8Bytes(message) : message;
      this.machine.dispatch({ type: 'awaiting-user', action });
      const result = await session.eth.signPersonalMessage(this.path, hexlify(bytes).slice(2));
      return this.finish(
        action,
        Signature.from({ r: `0x${result.r}`, s: `0x${result.s}`, v: result.v }).serialized,
      );
    });
  }

  /** Closes the transport; the next call reopens it. */
  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.transport.close().catch(() => undefined);
  }

  private finish(action: DeviceAction, value: string): string {
    this.machine.dispatch({ type: 'signed', action });
    return value;
  }

  private enqueue<T>(action: DeviceAction | null, work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      try {
        return await work();
      } catch (error) {
        const e = deviceError(
          error,
          action ? `while ${action.replace(/-/g, ' ')}` : 'while connecting',
        );
        if (e.tag === 'DeviceDisconnected' || e.tag === 'DeviceTimeout') await this.close();
        const state = this.machine.state;
        this.machine.dispatch(
          eventForError(e, state.status === 'confirm-on-device' ? state.action : action),
        );
        throw e;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async withTimeout<T>(what: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new CustosError(
            'DeviceTimeout',
            `the Ledger did not answer ${what} within ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens the transport if needed, checks the app, confirms the address once. */
  private async ready(): Promise<{ session: Session; address: string }> {
    let session = this.session;
    if (!session) {
      this.machine.dispatch({ type: 'connect' });
      let transport: Transport;
      try {
        transport = await this.withTimeout('when opened', this.options.openTransport());
      } catch (error) {
        if (isCustosError(error)) throw error;
        throw new CustosError('DeviceNotFound', 'no Ledger could be opened', { cause: error });
      }
      transport.on('disconnect', () => {
        if (this.session?.transport === transport) {
          this.session = null;
          this.machine.dispatch({ type: 'disconnected' });
        }
      });
      session = { transport, eth: new Eth(transport, 'w0w', OFFLINE), appVersion: '' };
      this.session = session;
    }
    const app = await this.withTimeout('the app check', this.appAndVersion(session.transport));
    if (app.name !== 'Ethereum') {
      throw new CustosError(
        'WrongApp',
        `the open app is ${app.name === 'BOLOS' ? 'the dashboard' : app.name}`,
        {
          details: { app: app.name === 'BOLOS' ? null : app.name },
        },
      );
    }
    session = { ...session, appVersion: app.version };
    this.session = session;
    const read = await this.withTimeout(
      'the address read',
      session.eth.getAddress(this.path, false, false),
    );
    const address = getAddress(read.address);
    if (this.options.expectedAddress && getAddress(this.options.expectedAddress) !== address) {
      throw new CustosError('DeviceAddressMismatch', `this Ledger's account is ${address}`, {
        details: { expected: getAddress(this.options.expectedAddress), device: address },
      });
    }
    if (this.confirmedAddress !== address) {
      this.machine.dispatch({ type: 'awaiting-user', action: 'verify-address' });
      const shown = await session.eth.getAddress(this.path, true, false);
      if (getAddress(shown.address) !== address) {
        throw new CustosError('DeviceAddressMismatch', 'the device showed another address');
      }
      this.confirmedAddress = address;
    }
    this.machine.dispatch({ type: 'app-ready', address });
    return { session, address };
  }

  private async appAndVersion(transport: Transport): Promise<{ name: string; version: string }> {
    const r = await transport.send(0xb0, 0x01, 0x00, 0x00);
    const nameLength = r[1] ?? 0;
    const name = r.subarray(2, 2 + nameLength).toString('ascii');
    const versionLength = r[2 + nameLength] ?? 0;
    const version = r.subarray(3 + nameLength, 3 + nameLength + versionLength).toString('ascii');
    return { name, version };
  }
}
