import { getAddress, hexlify, keccak256, toUtf8String, Utf8ErrorFuncs } from 'ethers';
import { SW } from '../status.ts';

/**
 * The Ethereum app's full EIP-712 protocol, as the device runs it: struct definitions arrive
 * field by field (INS 0x1a), then the domain and the message values arrive in schema order
 * (INS 0x1c), and the device hashes them as they come — it never sees the JSON. This module keeps
 * that streaming state; `device.ts` feeds it APDUs.
 */

/** Type keys of the field type descriptor byte (low 4 bits). */
const TYPE = {
  custom: 0,
  int: 1,
  uint: 2,
  address: 3,
  bool: 4,
  string: 5,
  fixedBytes: 6,
  bytes: 7,
} as const;

export interface FieldDef {
  readonly typeKey: number;
  /** Size in bytes for int/uint/fixed bytes. */
  readonly size: number | null;
  readonly customName: string | null;
  /** One entry per `[]`/`[n]` as written, left to right: null for dynamic, n for fixed. */
  readonly arrayLevels: readonly (number | null)[];
  readonly name: string;
}

/** A failure the device answers with a status word. */
export class ApduFailure extends Error {
  readonly sw: number;
  constructor(sw: number, message: string) {
    super(message);
    this.sw = sw;
  }
}

/** Limits of the device's EIP-712 memory; a schema over them is refused with 0x6a84. */
export interface Eip712Limits {
  /** Bytes available for struct definitions (the app stores them in a fixed RAM buffer). */
  readonly definitionBytes: number;
  /** Deepest nesting of structs and arrays the app can walk. */
  readonly maxDepth: number;
}

export const DEFAULT_EIP712_LIMITS: Eip712Limits = { definitionBytes: 8192, maxDepth: 8 };

/** One line the device shows while the user scrolls through a typed message. */
export interface DisplayedField {
  readonly label: string;
  readonly value: string;
}

class Reader {
  private offset = 0;
  private readonly data: Uint8Array;
  constructor(data: Uint8Array) {
    this.data = data;
  }
  byte(): number {
    const b = this.data[this.offset];
    if (b === undefined) throw new ApduFailure(SW.INCORRECT_DATA, 'truncated struct definition');
    this.offset += 1;
    return b;
  }
  bytes(n: number): Uint8Array {
    if (this.offset + n > this.data.length)
      throw new ApduFailure(SW.INCORRECT_DATA, 'truncated struct definition');
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  done(): boolean {
    return this.offset === this.data.length;
  }
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** Parses the body of a struct-definition field APDU (INS 0x1a, P2 0xff). */
export function parseFieldDef(data: Uint8Array): FieldDef {
  const r = new Reader(data);
  const desc = r.byte();
  const isArray = (desc & 0x80) !== 0;
  const hasSize = (desc & 0x40) !== 0;
  const typeKey = desc & 0x0f;
  if (typeKey > TYPE.bytes) throw new ApduFailure(SW.INCORRECT_DATA, `unknown type key ${typeKey}`);
  let customName: string | null = null;
  if (typeKey === TYPE.custom) customName = ascii(r.bytes(r.byte()));
  const size = hasSize ? r.byte() : null;
  if (
    (typeKey === TYPE.int || typeKey === TYPE.uint || typeKey === TYPE.fixedBytes) !==
    (size !== null)
  ) {
    throw new ApduFailure(SW.INCORRECT_DATA, 'type size flag does not match the type');
  }
  if (size !== null && (size < 1 || size > 32))
    throw new ApduFailure(SW.INCORRECT_DATA, `bad type size ${size}`);
  const arrayLevels: (number | null)[] = [];
  if (isArray) {
    const count = r.byte();
    for (let i = 0; i < count; i++) {
      const kind = r.byte();
      if (kind === 0) arrayLevels.push(null);
      else if (kind === 1) arrayLevels.push(r.byte());
      else throw new ApduFailure(SW.INCORRECT_DATA, `bad array level kind ${kind}`);
    }
  }
  const name = ascii(r.bytes(r.byte()));
  if (!r.done()) throw new ApduFailure(SW.INCORRECT_DATA, 'trailing bytes in struct definition');
  return { typeKey, size, customName, arrayLevels, name };
}

function baseTypeName(f: FieldDef): string {
  switch (f.typeKey) {
    case TYPE.custom:
      return f.customName ?? '';
    case TYPE.int:
      return `int${(f.size ?? 32) * 8}`;
    case TYPE.uint:
      return `uint${(f.size ?? 32) * 8}`;
    case TYPE.address:
      return 'address';
    case TYPE.bool:
      return 'bool';
    case TYPE.string:
      return 'string';
    case TYPE.fixedBytes:
      return `bytes${f.size ?? 32}`;
    default:
      return 'bytes';
  }
}

/** The field's Solidity type as written in the schema, e.g. `address[]` or `Person`. */
export function fieldTypeName(f: FieldDef): string {
  return baseTypeName(f) + f.arrayLevels.map((n) => (n === null ? '[]' : `[${n}]`)).join('');
}

type Frame =
  | {
      kind: 'struct';
      type: string;
      fields: readonly FieldDef[];
      index: number;
      encoded: Uint8Array[];
      label: string;
    }
  | {
      kind: 'array';
      field: FieldDef;
      level: number;
      length: number;
      count: number;
      encoded: Uint8Array[];
      label: string;
    };

type Expectation =
  | { kind: 'array'; field: FieldDef; level: number; label: string }
  | { kind: 'value'; field: FieldDef; label: string }
  | { kind: 'none' };

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

function keccak(data: Uint8Array): Uint8Array {
  return fromHex(keccak256(data));
}

/** Streaming EIP-712 state of one emulated app session. */
export class Eip712Session {
  private readonly limits: Eip712Limits;
  private readonly structs = new Map<string, FieldDef[]>();
  private currentDef: FieldDef[] | null = null;
  private definitionBytes = 0;
  private stack: Frame[] = [];
  private rootType: string | null = null;
  private pendingValue: { total: number; parts: Uint8Array[]; got: number } | null = null;
  /** hashStruct of the EIP712Domain root, once complete. */
  domainSeparator: Uint8Array | null = null;
  /** hashStruct of the primary-type root, once complete. */
  messageHash: Uint8Array | null = null;
  /** What the device shows for the message, in order. */
  readonly displayed: DisplayedField[] = [];

  constructor(limits: Eip712Limits) {
    this.limits = limits;
  }

  /** INS 0x1a P2 0x00: a struct name starts a new definition. */
  defineStruct(nameBytes: Uint8Array): void {
    const name = ascii(nameBytes);
    if (name.length === 0) throw new ApduFailure(SW.INCORRECT_DATA, 'empty struct name');
    this.charge(nameBytes.length + 2);
    const fields: FieldDef[] = [];
    this.structs.set(name, fields);
    this.currentDef = fields;
  }

  /** INS 0x1a P2 0xff: one field of the struct being defined. */
  defineField(data: Uint8Array): void {
    if (!this.currentDef)
      throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'field before struct name');
    this.charge(data.length);
    const field = parseFieldDef(data);
    if (field.arrayLevels.length > this.limits.maxDepth) {
      throw new ApduFailure(SW.NOT_ENOUGH_MEMORY, 'array nesting too deep for this device');
    }
    this.currentDef.push(field);
  }

  private charge(bytes: number): void {
    this.definitionBytes += bytes;
    if (this.definitionBytes > this.limits.definitionBytes) {
      throw new ApduFailure(SW.NOT_ENOUGH_MEMORY, 'EIP-712 schema too large for this device');
    }
  }

  /** encodeType(type): the type itself, then every struct it references, sorted by name. */
  encodeType(type: string): string {
    const deps = new Set<string>();
    const visit = (t: string): void => {
      if (deps.has(t)) return;
      const fields = this.structs.get(t);
      if (!fields) throw new ApduFailure(SW.INCORRECT_DATA, `undefined struct ${t}`);
      deps.add(t);
      for (const f of fields) if (f.typeKey === TYPE.custom && f.customName) visit(f.customName);
    };
    visit(type);
    deps.delete(type);
    const one = (t: string): string =>
      `${t}(${(this.structs.get(t) ?? []).map((f) => `${fieldTypeName(f)} ${f.name}`).join(',')})`;
    return [type, ...[...deps].sort()].map(one).join('');
  }

  private typeHash(type: string): Uint8Array {
    return keccak(new TextEncoder().encode(this.encodeType(type)));
  }

  /** INS 0x1c P2 0x00: the root of the next value tree (EIP712Domain, then the primary type). */
  startRoot(nameBytes: Uint8Array): void {
    const name = ascii(nameBytes);
    const fields = this.structs.get(name);
    if (!fields) throw new ApduFailure(SW.INCORRECT_DATA, `root ${name} was not defined`);
    if (this.stack.length > 0 || this.pendingValue) {
      throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'previous root not complete');
    }
    this.rootType = name;
    if (name !== 'EIP712Domain') this.messageHash = null;
    this.stack = [{ kind: 'struct', type: name, fields, index: 0, encoded: [], label: '' }];
    this.settle();
  }

  /** INS 0x1c P2 0x0f: the length of the array about to be sent. */
  arrayLength(data: Uint8Array): void {
    const exp = this.expectation();
    if (exp.kind !== 'array' || data.length !== 1) {
      throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'array length not expected here');
    }
    if (this.stack.length >= this.limits.maxDepth * 2 + 2) {
      throw new ApduFailure(SW.NOT_ENOUGH_MEMORY, 'nesting too deep for this device');
    }
    this.stack.push({
      kind: 'array',
      field: exp.field,
      level: exp.level,
      length: data[0] ?? 0,
      count: 0,
      encoded: [],
      label: exp.label,
    });
    this.settle();
  }

  /** INS 0x1c P2 0xff: a field value, possibly in several APDUs (P1 0x01 = more to come). */
  fieldValue(data: Uint8Array, partial: boolean): void {
    const exp = this.expectation();
    if (exp.kind !== 'value')
      throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'field value not expected here');
    let chunk = data;
    if (!this.pendingValue) {
      if (data.length < 2) throw new ApduFailure(SW.INCORRECT_DATA, 'missing value length');
      this.pendingValue = { total: ((data[0] ?? 0) << 8) | (data[1] ?? 0), parts: [], got: 0 };
      chunk = data.subarray(2);
    }
    const pending = this.pendingValue;
    pending.parts.push(chunk);
    pending.got += chunk.length;
    if (pending.got > pending.total)
      throw new ApduFailure(SW.INCORRECT_DATA, 'value longer than announced');
    if (partial) return;
    if (pending.got !== pending.total)
      throw new ApduFailure(SW.INCORRECT_DATA, 'value shorter than announced');
    this.pendingValue = null;
    const value = concat(pending.parts);
    const { encoded, shown } = encodeAtomic(exp.field, value);
    this.displayed.push({ label: exp.label, value: shown });
    this.deliver(encoded);
    this.settle();
  }

  /** True when both roots have been hashed and nothing is half-sent. */
  complete(): boolean {
    return this.domainSeparator !== null && this.messageHash !== null && this.stack.length === 0;
  }

  private expectation(): Expectation {
    const top = this.stack[this.stack.length - 1];
    if (!top) return { kind: 'none' };
    if (top.kind === 'struct') {
      const field = top.fields[top.index];
      if (!field) return { kind: 'none' };
      const label = top.label ? `${top.label}.${field.name}` : field.name;
      if (field.arrayLevels.length > 0) return { kind: 'array', field, level: 0, label };
      return { kind: 'value', field, label };
    }
    const label = `${top.label}[${top.count}]`;
    if (top.level + 1 < top.field.arrayLevels.length) {
      return { kind: 'array', field: top.field, level: top.level + 1, label };
    }
    return { kind: 'value', field: top.field, label };
  }

  /** Closes finished frames and opens struct frames that need no APDU of their own. */
  private settle(): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top) return;
      if (top.kind === 'struct') {
        const field = top.fields[top.index];
        if (!field) {
          this.stack.pop();
          const hash = keccak(concat([this.typeHash(top.type), ...top.encoded]));
          if (this.stack.length === 0) this.finishRoot(hash);
          else this.deliver(hash);
          continue;
        }
        if (field.arrayLevels.length === 0 && field.typeKey === TYPE.custom) {
          this.openStruct(field, top.label ? `${top.label}.${field.name}` : field.name);
          continue;
        }
        return;
      }
      if (top.count === top.length) {
        this.stack.pop();
        this.deliver(keccak(concat(top.encoded)));
        continue;
      }
      const innermost = top.level + 1 === top.field.arrayLevels.length;
      if (innermost && top.field.typeKey === TYPE.custom) {
        this.openStruct(top.field, `${top.label}[${top.count}]`);
        continue;
      }
      return;
    }
  }

  private openStruct(field: FieldDef, label: string): void {
    const type = field.customName ?? '';
    const fields = this.structs.get(type);
    if (!fields) throw new ApduFailure(SW.INCORRECT_DATA, `undefined struct ${type}`);
    if (this.stack.length >= this.limits.maxDepth * 2 + 2) {
      throw new ApduFailure(SW.NOT_ENOUGH_MEMORY, 'nesting too deep for this device');
    }
    this.stack.push({ kind: 'struct', type, fields, index: 0, encoded: [], label });
  }

  private deliver(encoded: Uint8Array): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) throw new ApduFailure(SW.CONDITIONS_NOT_SATISFIED, 'value outside a root');
    top.encoded.push(encoded);
    if (top.kind === 'struct') top.index += 1;
    else top.count += 1;
  }

  private finishRoot(hash: Uint8Array): void {
    if (this.rootType === 'EIP712Domain') this.domainSeparator = hash;
    else this.messageHash = hash;
    this.rootType = null;
  }
}

function padLeft(value: Uint8Array, fill: number): Uint8Array {
  const out = new Uint8Array(32).fill(fill);
  out.set(value, 32 - value.length);
  return out;
}

function bigFrom(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(hexlify(bytes));
}

/** encodeData of one atomic value, and how the device shows it. */
export function encodeAtomic(
  field: FieldDef,
  value: Uint8Array,
): { encoded: Uint8Array; shown: string } {
  const tooLong = (max: number): void => {
    if (value.length > max)
      throw new ApduFailure(SW.INCORRECT_DATA, `value too long for ${baseTypeName(field)}`);
  };
  switch (field.typeKey) {
    case TYPE.int: {
      const size = field.size ?? 32;
      tooLong(size);
      // hw-app-eth sends negative numbers as two's complement over the type's full width.
      const negative = value.length === size && ((value[0] ?? 0) & 0x80) !== 0;
      const n = bigFrom(value);
      return {
        encoded: padLeft(value, negative ? 0xff : 0),
        shown: (negative ? n - (1n << BigInt(size * 8)) : n).toString(),
      };
    }
    case TYPE.uint:
      tooLong(field.size ?? 32);
      return { encoded: padLeft(value, 0), shown: bigFrom(value).toString() };
    case TYPE.bool:
      tooLong(1);
      return { encoded: padLeft(value, 0), shown: bigFrom(value) === 0n ? 'false' : 'true' };
    case TYPE.address:
      tooLong(20);
      return {
        encoded: padLeft(value, 0),
        shown: getAddress(hexlify(padLeft(value, 0).subarray(12))),
      };
    case TYPE.fixedBytes: {
      tooLong(field.size ?? 32);
      const out = new Uint8Array(32);
      out.set(value);
      return { encoded: out, shown: hexlify(value) };
    }
    case TYPE.string:
      return { encoded: keccak(value), shown: toUtf8String(value, Utf8ErrorFuncs.replace) };
    case TYPE.bytes:
      return { encoded: keccak(value), shown: hexlify(value) };
    default:
      throw new ApduFailure(SW.INCORRECT_DATA, 'a struct cannot be sent as a value');
  }
}
