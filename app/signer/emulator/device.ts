import { EventEmitter } from 'node:events';
import {
  concat as concatBytes,
  formatEther,
  getAddress,
  hashMessage,
  HDNodeWallet,
  hexlify,
  keccak256,
  Mnemonic,
  SigningKey,
  toUtf8String,
} from 'ethers';
import { EIP712_FULL_MIN_VERSION, SW } from '../status.ts';
import {
  ApduFailure,
  DEFAULT_EIP712_LIMITS,
  Eip712Session,
  type DisplayedField,
  type Eip712Limits,
} from './eip712.ts';

/**
 * A software Ledger running the Ethereum app, at the APDU level: it takes the same bytes a Nano
 * takes over USB and answers the same bytes, from a BIP-39 mnemonic. Signatures are RFC 6979
 * deterministic ECDSA over secp256k1, as the device makes them, so a given seed and request always
 * give the same answer. A scripted "user" answers every on-device prompt; the device can be
 * locked, unplugged or switched to another app at any time, including while a prompt is pending.
 */

/** What the device screen asks the user to approve. */
export interface Prompt {
  readonly kind: 'address' | 'transaction' | 'personal-message' | 'typed-data' | 'typed-data-hash';
  readonly fields: readonly DisplayedField[];
}

export type UserAnswer = 'approve' | 'reject';

/** The person holding the device: sees a prompt, presses approve or reject (maybe later). */
export type User = (prompt: Prompt) => UserAnswer | Promise<UserAnswer>;

export const approveEverything: User = () => 'approve';

/** Thrown by `exchange` when the cable is out; the transport turns it into a disconnect. */
export class DeviceUnplugged extends Error {
  constructor() {
    super('device unplugged');
    this.name = 'DeviceUnplugged';
  }
}

export interface EmulatorOptions {
  readonly mnemonic: string;
  readonly passphrase?: string;
  /** Version of the Ethereum app, e.g. "1.12.0". Below 1.9.19 the full EIP-712 INS are unknown. */
  readonly appVersion?: string;
  /** The "Blind signing" setting: contract data and hashed EIP-712 need it. */
  readonly blindSigning?: boolean;
  /** Extra GET_APP_CONFIGURATION flag bits (0x02 ERC-20 info, 0x04/0x08 Stark), as a build sets them. */
  readonly configFlags?: number;
  readonly user?: User;
  readonly eip712Limits?: Eip712Limits;
  /** Status word another app answers to CLA 0xe0 (0x6e00 or 0x6d00 depending on the app). */
  readonly otherAppStatus?: number;
  /** Firmware version reported by the dashboard. */
  readonly osVersion?: string;
}

export type DeviceCondition =
  | { readonly power: 'unplugged' }
  | { readonly power: 'on'; readonly locked: boolean; readonly app: string | null };

type Pending =
  | { tx: Uint8Array[]; txPath: number[] }
  | { msg: Uint8Array[]; msgPath: number[]; msgLength: number };

const ETHEREUM = 'Ethereum';

function u32(data: Uint8Array, offset: number): number {
  return (
    (((data[offset] ?? 0) << 24) |
      ((data[offset + 1] ?? 0) << 16) |
      ((data[offset + 2] ?? 0) << 8) |
      (data[offset + 3] ?? 0)) >>>
    0
  );
}

/** Reads `n, path[0..n]` at the start of a payload; returns the path and the bytes after it. */
export function readPath(data: Uint8Array): { path: number[]; rest: Uint8Array } {
  const n = data[0];
  if (n === undefined || n < 1 || n > 10 || data.length < 1 + 4 * n)
    throw new ApduFailure(SW.INCORRECT_DATA, 'bad BIP-32 path');
  const path: number[] = [];
  for (let i = 0; i < n; i++) path.push(u32(data, 1 + 4 * i));
  return { path, rest: data.subarray(1 + 4 * n) };
}

/** "m/44'/60'/0'/0/0" from path components. */
export function pathString(path: readonly number[]): string {
  return ['m', ...path.map((p) => (p >= 0x80000000 ? `${p - 0x80000000}'` : `${p}`))].join('/');
}

function withStatus(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ''), 'hex'));
}

interface RlpItem {
  readonly value: Uint8Array;
  readonly isList: boolean;
  /** Offset just after the item. */
  readonly end: number;
}

/** Decodes the RLP item at `offset`, or null if `bytes` stops before its end. */
function rlpItem(bytes: Uint8Array, offset: number): RlpItem | null {
  const b = bytes[offset];
  if (b === undefined) return null;
  let start: number;
  let length: number;
  if (b < 0x80)
    return { value: bytes.subarray(offset, offset + 1), isList: false, end: offset + 1 };
  const long = (lenOfLen: number): number | null => {
    if (offset + 1 + lenOfLen > bytes.length) return null;
    let n = 0;
    for (let i = 0; i < lenOfLen; i++) n = n * 256 + (bytes[offset + 1 + i] ?? 0);
    return n;
  };
  if (b <= 0xb7) {
    start = offset + 1;
    length = b - 0x80;
  } else if (b <= 0xbf || (b >= 0xf8 && b <= 0xff)) {
    const lenOfLen = b - (b <= 0xbf ? 0xb7 : 0xf7);
    const n = long(lenOfLen);
    if (n === null) return null;
    start = offset + 1 + lenOfLen;
    length = n;
  } else {
    start = offset + 1;
    length = b - 0xc0;
  }
  const isList = b >= 0xc0;
  if (isList) return { value: bytes.subarray(start, start), isList, end: start };
  if (start + length > bytes.length) return null;
  return { value: bytes.subarray(start, start + length), isList, end: start + length };
}

interface ParsedTransaction {
  readonly type: 0 | 1 | 2;
  /** Bytes the app hashes: up to the last field it parses. */
  readonly signed: Uint8Array;
  readonly chainId: bigint;
  readonly to: Uint8Array;
  readonly value: bigint;
  readonly gasLimit: bigint;
  readonly feePerGas: bigint;
  readonly data: Uint8Array;
}

function big(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(hexlify(bytes));
}

/**
 * Streams a transaction the way the app does: fields one after another; a typed transaction ends
 * with its access list (anything after it — a signature — is ignored), a legacy one with its list
 * or after the EIP-155 (chainId, 0, 0) triple. Null while more bytes are needed.
 */
function parseTransaction(bytes: Uint8Array): ParsedTransaction | null {
  if (bytes.length === 0) return null;
  const first = bytes[0] ?? 0;
  if (first < 0xc0 && first !== 1 && first !== 2)
    throw new ApduFailure(SW.TX_TYPE_NOT_SUPPORTED, `transaction type ${first}`);
  const type: 0 | 1 | 2 = first === 1 ? 1 : first === 2 ? 2 : 0;
  const header = rlpItem(bytes, type === 0 ? 0 : 1);
  if (header === null) return null;
  if (!header.isList) throw new ApduFailure(SW.INCORRECT_DATA, 'transaction is not an RLP list');
  const fieldCount = type === 0 ? 9 : type === 1 ? 8 : 9;
  const fields: Uint8Array[] = [];
  let offset = header.end;
  // the declared list end, for legacy transactions without chain id
  const listLength = (() => {
    const b = bytes[type === 0 ? 0 : 1] ?? 0xc0;
    return b >= 0xf8 ? null : b - 0xc0;
  })();
  for (let i = 0; i < fieldCount; i++) {
    if (type === 0 && i === 6 && listLength !== null && offset === header.end + listLength) break;
    const last = type !== 0 && i === fieldCount - 1;
    const item = rlpItem(bytes, offset);
    if (item === null) return null;
    if (last) {
      if (!item.isList) throw new ApduFailure(SW.INCORRECT_DATA, 'access list is not a list');
      const length = (() => {
        const b = bytes[offset] ?? 0xc0;
        if (b < 0xf8) return b - 0xc0;
        let n = 0;
        for (let k = 0; k < b - 0xf7; k++) n = n * 256 + (bytes[offset + 1 + k] ?? 0);
        return n;
      })();
      if (item.end + length > bytes.length) return null;
      offset = item.end + length;
      break;
    }
    if (item.isList) throw new ApduFailure(SW.INCORRECT_DATA, 'unexpected list in transaction');
    fields.push(item.value);
    offset = item.end;
  }
  const f = (i: number): Uint8Array => fields[i] ?? new Uint8Array(0);
  const signed = bytes.subarray(0, offset);
  if (type === 0) {
    return {
      type,
      signed,
      chainId: big(f(6)),
      gasLimit: big(f(2)),
      feePerGas: big(f(1)),
      to: f(3),
      value: big(f(4)),
      data: f(5),
    };
  }
  if (type === 1) {
    return {
      type,
      signed,
      chainId: big(f(0)),
      feePerGas: big(f(2)),
      gasLimit: big(f(3)),
      to: f(4),
      value: big(f(5)),
      data: f(6),
    };
  }
  return {
    type,
    signed,
    chainId: big(f(0)),
    feePerGas: big(f(3)),
    gasLimit: big(f(4)),
    to: f(5),
    value: big(f(6)),
    data: f(7),
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return fromHex(concatBytes(parts));
}

/** The highest 4 bytes of the chain id's minimal big-endian form, as the app keeps it. */
function chainIdAsUint32(chainId: bigint): number {
  let hex = chainId.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return parseInt(hex.slice(0, 8) || '0', 16);
}

export class LedgerEmulator {
  private readonly root: HDNodeWallet;
  private readonly keys = new Map<string, HDNodeWallet>();
  private readonly options: {
    -readonly [
      K in keyof Required<Omit<EmulatorOptions, 'passphrase' | 'mnemonic'>>
    ]: Required<EmulatorOptions>[K];
  };
  private condition: DeviceCondition = { power: 'on', locked: false, app: ETHEREUM };
  private user: User;
  private pending: Pending | null = null;
  private eip712: Eip712Session | null = null;
  private eip712Implementing = false;
  private abortPrompt: ((outcome: 'locked' | 'unplugged') => void) | null = null;
  private frozen: { release: () => void; promise: Promise<void> } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Emits 'prompt' (Prompt), 'unplug', 'plug', 'lock', 'unlock', 'app' (name | null). */
  readonly events = new EventEmitter();
  /** Every prompt shown, in order. */
  readonly prompts: Prompt[] = [];

  constructor(options: EmulatorOptions) {
    const mnemonic = Mnemonic.fromPhrase(
      options.mnemonic.trim().split(/\s+/).join(' '),
      options.passphrase ?? '',
    );
    this.root = HDNodeWallet.fromMnemonic(mnemonic, 'm');
    this.user = options.user ?? approveEverything;
    this.options = {
      appVersion: options.appVersion ?? '1.12.0',
      blindSigning: options.blindSigning ?? false,
      configFlags: options.configFlags ?? 0x0e,
      user: this.user,
      eip712Limits: options.eip712Limits ?? DEFAULT_EIP712_LIMITS,
      otherAppStatus: options.otherAppStatus ?? SW.CLA_NOT_SUPPORTED,
      osVersion: options.osVersion ?? '2.2.3',
    };
  }

  /** Where the device is: unplugged, locked, on the dashboard or in an app. */
  get state(): DeviceCondition {
    return this.condition;
  }

  setUser(user: User): void {
    this.user = user;
  }

  setBlindSigning(enabled: boolean): void {
    this.options.blindSigning = enabled;
  }

  /** Pulls the cable: a pending exchange fails, the app closes, the next plug boots locked. */
  unplug(): void {
    this.condition = { power: 'unplugged' };
    this.resetApp();
    this.abortPrompt?.('unplugged');
    this.frozen?.release();
    this.frozen = null;
    this.events.emit('unplug');
  }

  /** Plugs the cable back: the device boots to its PIN screen. */
  plug(): void {
    if (this.condition.power === 'on') return;
    this.condition = { power: 'on', locked: true, app: null };
    this.events.emit('plug');
  }

  /** Auto-lock or the user locking it: a pending prompt answers 0x5515; the app stays open. */
  lock(): void {
    if (this.condition.power !== 'on') return;
    this.condition = { ...this.condition, locked: true };
    this.resetOperation();
    this.abortPrompt?.('locked');
    this.events.emit('lock');
  }

  unlock(): void {
    if (this.condition.power !== 'on') return;
    this.condition = { ...this.condition, locked: false };
    this.events.emit('unlock');
  }

  /** Opens an app by name ("Ethereum", or any other to model the wrong app); null = dashboard. */
  openApp(name: string | null): void {
    if (this.condition.power !== 'on') return;
    this.condition = { ...this.condition, app: name };
    this.resetApp();
    this.events.emit('app', name);
  }

  /** Makes the device stop answering (a hung USB stack) until unplugged or `thaw()`. */
  freeze(): void {
    if (this.frozen) return;
    let release = (): void => {};
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.frozen = { release, promise };
  }

  thaw(): void {
    this.frozen?.release();
    this.frozen = null;
  }

  /** Address the device derives for a path, e.g. "m/44'/60'/0'/0/0". */
  addressAt(path: string): string {
    return this.root.derivePath(path).address;
  }

  /**
   * Sends one APDU (CLA INS P1 P2 Lc data) and returns the response data followed by the status
   * word. Throws DeviceUnplugged when the cable is out. One APDU at a time, like the device.
   */
  exchange(apdu: Uint8Array): Promise<Uint8Array> {
    const run = this.queue.then(() => this.process(apdu));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async process(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.frozen) await this.frozen.promise;
    if (this.condition.power !== 'on') throw new DeviceUnplugged();
    try {
      return await this.dispatch(apdu);
    } catch (error) {
      if (error instanceof ApduFailure) {
        this.resetOperation();
        return withStatus(new Uint8Array(0), error.sw);
      }
      throw error;
    }
  }

  private async dispatch(apdu: Uint8Array): Promise<Uint8Array> {
    const cond = this.condition;
    if (cond.power !== 'on') throw new DeviceUnplugged();
    if (apdu.length < 4) throw new ApduFailure(SW.WRONG_LENGTH, 'short APDU');
    const [cla = 0, ins = 0, p1 = 0, p2 = 0] = apdu;
    // The HID framing carries the real length; like the device, trust it over the Lc byte.
    const data = apdu.subarray(5);
    if (cond.locked) throw new ApduFailure(SW.LOCKED, 'locked');
    if (cla === 0xb0 && ins === 0x01) return this.appAndVersion(cond.app);
    if (cond.app === null) throw new ApduFailure(SW.APP_NOT_OPEN, 'dashboard');
    if (cond.app !== ETHEREUM) throw new ApduFailure(this.options.otherAppStatus, 'another app');
    if (cla !== 0xe0) throw new ApduFailure(SW.CLA_NOT_SUPPORTED, 'bad CLA');
    switch (ins) {
      case 0x02:
        return this.getAddress(p1, p2, data);
      case 0x04:
        return this.signTransaction(p1, data);
      case 0x06:
        return withStatus(Uint8Array.from([this.configFlags(), ...this.version()]), SW.OK);
      case 0x08:
        return this.signPersonalMessage(p1, data);
      case 0x0c:
        return this.signTypedData(p2, data);
      case 0x1a:
      case 0x1c:
        return this.eip712Apdu(ins, p1, p2, data);
      default:
        throw new ApduFailure(SW.INS_NOT_SUPPORTED, `INS 0x${ins.toString(16)}`);
    }
  }

  private version(): [number, number, number] {
    const [a = 0, b = 0, c = 0] = this.options.appVersion
      .split(/[.-]/)
      .map((x) => Number.parseInt(x, 10) || 0);
    return [a, b, c];
  }

  private versionAtLeast(major: number, minor: number, patch: number): boolean {
    const [a, b, c] = this.version();
    return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
  }

  private configFlags(): number {
    return (this.options.configFlags & ~0x01) | (this.options.blindSigning ? 0x01 : 0x00);
  }

  private appAndVersion(app: string | null): Uint8Array {
    const name = ascii(app ?? 'BOLOS');
    const version = ascii(app === ETHEREUM ? this.options.appVersion : this.options.osVersion);
    const body = Uint8Array.from([
      0x01,
      name.length,
      ...name,
      version.length,
      ...version,
      0x01,
      0x00,
    ]);
    return withStatus(body, SW.OK);
  }

  private key(path: readonly number[]): HDNodeWallet {
    const p = pathString(path);
    let k = this.keys.get(p);
    if (!k) {
      k = this.root.derivePath(p);
      this.keys.set(p, k);
    }
    return k;
  }

  private async ask(prompt: Prompt): Promise<void> {
    this.prompts.push(prompt);
    const aborted = new Promise<'locked' | 'unplugged'>((resolve) => {
      this.abortPrompt = resolve;
    });
    this.events.emit('prompt', prompt);
    const answer = await Promise.race([Promise.resolve(this.user(prompt)), aborted]);
    this.abortPrompt = null;
    if (answer === 'unplugged') throw new DeviceUnplugged();
    if (answer === 'locked') throw new ApduFailure(SW.LOCKED, 'locked during prompt');
    if (answer !== 'approve') throw new ApduFailure(SW.USER_REJECTED, 'user rejected');
  }

  private sign(
    path: readonly number[],
    digest: string,
  ): { parity: number; r: Uint8Array; s: Uint8Array } {
    const sig = this.key(path).signingKey.sign(digest);
    return { parity: sig.yParity, r: fromHex(sig.r), s: fromHex(sig.s) };
  }

  private async getAddress(p1: number, p2: number, data: Uint8Array): Promise<Uint8Array> {
    if (p1 > 1 || p2 > 1) throw new ApduFailure(SW.INCORRECT_P1_P2, 'bad P1/P2');
    const { path, rest } = readPath(data);
    if (rest.length !== 0 && rest.length !== 8)
      throw new ApduFailure(SW.INCORRECT_DATA, 'bad chain id');
    const key = this.key(path);
    const address = getAddress(key.address);
    if (p1 === 1)
      await this.ask({ kind: 'address', fields: [{ label: 'Address', value: address }] });
    const publicKey = fromHex(SigningKey.computePublicKey(key.publicKey, false));
    const addr = ascii(address.slice(2));
    const parts = [
      Uint8Array.from([publicKey.length]),
      publicKey,
      Uint8Array.from([addr.length]),
      addr,
    ];
    if (p2 === 1) parts.push(fromHex(key.chainCode));
    return withStatus(concat(parts), SW.OK);
  }

  private async signTransaction(p1: number, data: Uint8Array): Promise<Uint8Array> {
    if (p1 === 0x00) {
      const { path, rest } = readPath(data);
      this.pending = { tx: [rest], txPath: path };
    } else if (p1 === 0x80 && this.pending && 'tx' in this.pending) {
      this.pending.tx.push(data);
    } else {
      throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'transaction chunk out of order');
    }
    const { tx: parts, txPath } = this.pending;
    const tx = parseTransaction(concat(parts));
    if (tx === null) return withStatus(new Uint8Array(0), SW.OK);
    this.pending = null;
    // The app treats a single 0x00 byte of data as no data.
    const hasData = tx.data.length > 0 && !(tx.data.length === 1 && tx.data[0] === 0);
    if (hasData && !this.options.blindSigning)
      throw new ApduFailure(SW.INCORRECT_DATA, 'blind signing disabled');
    const fields: DisplayedField[] = [];
    if (hasData) fields.push({ label: 'Blind signing', value: 'Contract data' });
    fields.push({ label: 'Amount', value: `ETH ${formatEther(tx.value)}` });
    fields.push({
      label: 'Address',
      value: tx.to.length === 20 ? getAddress(hexlify(tx.to)) : 'contract creation',
    });
    if (tx.chainId !== 0n && tx.chainId !== 1n)
      fields.push({ label: 'Network', value: tx.chainId.toString() });
    fields.push({ label: 'Max Fees', value: `ETH ${formatEther(tx.gasLimit * tx.feePerGas)}` });
    await this.ask({ kind: 'transaction', fields });
    const { parity, r, s } = this.sign(txPath, keccak256(tx.signed));
    let v: number;
    if (tx.type !== 0) v = parity;
    else if (tx.chainId === 0n) v = 27 + parity;
    else v = (chainIdAsUint32(tx.chainId) * 2 + 35 + parity) & 0xff;
    return withStatus(concat([Uint8Array.from([v]), r, s]), SW.OK);
  }

  private async signPersonalMessage(p1: number, data: Uint8Array): Promise<Uint8Array> {
    if (p1 === 0x00) {
      const { path, rest } = readPath(data);
      if (rest.length < 4) throw new ApduFailure(SW.INCORRECT_DATA, 'missing message length');
      this.pending = { msg: [rest.subarray(4)], msgPath: path, msgLength: u32(rest, 0) };
    } else if (p1 === 0x80 && this.pending && 'msg' in this.pending) {
      this.pending.msg.push(data);
    } else {
      throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'message chunk out of order');
    }
    const { msg, msgPath, msgLength } = this.pending;
    const message = concat(msg);
    if (message.length < msgLength) return withStatus(new Uint8Array(0), SW.OK);
    this.pending = null;
    if (message.length > msgLength)
      throw new ApduFailure(SW.INCORRECT_DATA, 'message longer than announced');
    const printable = message.every((b) => b === 0x0a || (b >= 0x20 && b < 0x7f));
    await this.ask({
      kind: 'personal-message',
      fields: [{ label: 'Message', value: printable ? toUtf8String(message) : hexlify(message) }],
    });
    const { parity, r, s } = this.sign(msgPath, hashMessage(message));
    return withStatus(concat([Uint8Array.from([27 + parity]), r, s]), SW.OK);
  }

  private eip712Apdu(ins: number, p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (!this.versionAtLeast(...EIP712_FULL_MIN_VERSION))
      throw new ApduFailure(SW.INS_NOT_SUPPORTED, 'app too old for EIP-712');
    if (ins === 0x1a) {
      if (!this.eip712 || this.eip712Implementing) {
        this.eip712 = new Eip712Session(this.options.eip712Limits);
        this.eip712Implementing = false;
      }
      if (p1 !== 0x00) throw new ApduFailure(SW.INCORRECT_P1_P2, 'bad P1');
      if (p2 === 0x00) this.eip712.defineStruct(data);
      else if (p2 === 0xff) this.eip712.defineField(data);
      else throw new ApduFailure(SW.INCORRECT_P1_P2, 'bad P2');
      return withStatus(new Uint8Array(0), SW.OK);
    }
    if (!this.eip712) throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'no struct definitions');
    this.eip712Implementing = true;
    if (p2 === 0x00) this.eip712.startRoot(data);
    else if (p2 === 0x0f) this.eip712.arrayLength(data);
    else if (p2 === 0xff && (p1 === 0x00 || p1 === 0x01)) this.eip712.fieldValue(data, p1 === 0x01);
    else throw new ApduFailure(SW.INCORRECT_P1_P2, 'bad P1/P2');
    return withStatus(new Uint8Array(0), SW.OK);
  }

  private async signTypedData(p2: number, data: Uint8Array): Promise<Uint8Array> {
    const { path, rest } = readPath(data);
    let domainSeparator: Uint8Array;
    let messageHash: Uint8Array;
    let prompt: Prompt;
    if (p2 === 0x00) {
      if (rest.length !== 64)
        throw new ApduFailure(SW.INCORRECT_DATA, 'expected two 32-byte hashes');
      if (!this.options.blindSigning)
        throw new ApduFailure(SW.INCORRECT_DATA, 'blind signing disabled');
      domainSeparator = rest.subarray(0, 32);
      messageHash = rest.subarray(32, 64);
      prompt = {
        kind: 'typed-data-hash',
        fields: [
          { label: 'Domain hash', value: hexlify(domainSeparator) },
          { label: 'Message hash', value: hexlify(messageHash) },
        ],
      };
    } else if (p2 === 0x01) {
      if (!this.versionAtLeast(...EIP712_FULL_MIN_VERSION))
        throw new ApduFailure(SW.INCORRECT_P1_P2, 'app too old for EIP-712');
      const session = this.eip712;
      if (
        rest.length !== 0 ||
        !session?.complete() ||
        !session.domainSeparator ||
        !session.messageHash
      ) {
        throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'typed data not complete');
      }
      domainSeparator = session.domainSeparator;
      messageHash = session.messageHash;
      prompt = { kind: 'typed-data', fields: [...session.displayed] };
    } else {
      throw new ApduFailure(SW.INCORRECT_P1_P2, 'bad P2');
    }
    this.eip712 = null;
    await this.ask(prompt);
    const digest = keccak256(concat([Uint8Array.from([0x19, 0x01]), domainSeparator, messageHash]));
    const { parity, r, s } = this.sign(path, digest);
    return withStatus(concat([Uint8Array.from([27 + parity]), r, s]), SW.OK);
  }

  /** Forgets a half-sent multi-APDU request (on error, lock). */
  private resetOperation(): void {
    this.pending = null;
    this.eip712 = null;
    this.eip712Implementing = false;
  }

  private resetApp(): void {
    this.resetOperation();
  }
}
