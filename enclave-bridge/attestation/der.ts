/**
 * Just enough DER to authenticate Intel's certificate revocation lists: `@phala/dcap-qvl` reads
 * CRLs only to look up revoked serial numbers and checks neither their signature nor their dates,
 * so this module pulls out the signed bytes, the signature, the issuer and the validity window.
 */

/** One DER element: its tag, where its content sits, and the whole encoding. */
export interface DerElement {
  readonly tag: number;
  /** The complete tag-length-value encoding. */
  readonly raw: Uint8Array;
  readonly content: Uint8Array;
}

export class DerError extends Error {}

/** Reads the element at `offset`; throws DerError when the encoding is malformed or truncated. */
export function readElement(bytes: Uint8Array, offset = 0): DerElement {
  if (offset + 2 > bytes.length) throw new DerError('truncated DER element');
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not used here');
  let length = bytes[offset + 1] as number;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported DER length');
    if (offset + 2 + count > bytes.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[offset + 2 + i] as number);
    if (length < 0x80) throw new DerError('non-minimal DER length');
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new DerError('DER element runs past its container');
  return {
    tag,
    raw: bytes.subarray(offset, end),
    content: bytes.subarray(offset + header, end),
  };
}

/** The elements inside a constructed element (SEQUENCE, SET, context tag), in order. */
export function children(element: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < element.content.length) {
    const child = readElement(element.content, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

/** Parses a whole buffer as exactly one element (no trailing bytes). */
export function parseDer(bytes: Uint8Array): DerElement {
  const element = readElement(bytes, 0);
  if (element.raw.length !== bytes.length) throw new DerError('trailing bytes after DER element');
  return element;
}

const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OID = 0x06;
const TAG_SEQUENCE = 0x30;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const TAG_CONTEXT_0 = 0xa0;

function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element?.tag !== tag) throw new DerError(`${what}: unexpected DER structure`);
  return element;
}

/** Decodes an OBJECT IDENTIFIER to dotted form. */
export function decodeOid(content: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (parts.length === 0)
        parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** Decodes UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) to a Date. */
export function decodeTime(element: DerElement): Date {
  const text = new TextDecoder().decode(element.content);
  let match: RegExpExecArray | null;
  let year: number;
  if (element.tag === TAG_UTC_TIME) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError(`bad UTCTime "${text}"`);
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (element.tag === TAG_GENERALIZED_TIME) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError(`bad GeneralizedTime "${text}"`);
    year = Number(match[1]);
  } else {
    throw new DerError('expected a time');
  }
  const [, , mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

const SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
};

/** A parsed X.509 CRL: what is signed, by whom, when it is valid, and which serials it revokes. */
export interface ParsedCrl {
  readonly tbs: Uint8Array;
  /** Hash of the signature algorithm (`sha256` for Intel's ecdsa-with-SHA256). */
  readonly hash: string;
  /** DER-encoded ECDSA signature (the BIT STRING's content without its unused-bits byte). */
  readonly signature: Uint8Array;
  /** The issuer Name, DER-encoded, to compare byte for byte with a certificate's subject. */
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  /** Revoked serial numbers, lowercase hex of the INTEGER content. */
  readonly revokedSerials: readonly string[];
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function signatureAlgorithm(element: DerElement | undefined, what: string): string {
  const seq = expectTag(element, TAG_SEQUENCE, what);
  const oid = decodeOid(expectTag(children(seq)[0], TAG_OID, what).content);
  const hash = SIGNATURE_HASHES[oid];
  if (!hash) throw new DerError(`${what}: unsupported signature algorithm ${oid}`);
  return hash;
}

/** Parses a DER CRL (RFC 5280 §5.1); throws DerError when it is not one. */
export function parseCrl(der: Uint8Array): ParsedCrl {
  const [tbsElement, algElement, sigElement, ...rest] = children(
    expectTag(parseDer(der), TAG_SEQUENCE, 'CRL'),
  );
  if (rest.length > 0) throw new DerError('CRL: extra fields');
  const tbsSeq = expectTag(tbsElement, TAG_SEQUENCE, 'CRL tbsCertList');
  const hash = signatureAlgorithm(algElement, 'CRL signatureAlgorithm');
  const bits = expectTag(sigElement, TAG_BIT_STRING, 'CRL signature');
  if (bits.content[0] !== 0) throw new DerError('CRL signature: unused bits');

  const fields = children(tbsSeq);
  let i = 0;
  if (fields[i]?.tag === TAG_INTEGER) i++; // version
  const innerHash = signatureAlgorithm(fields[i++], 'CRL tbs signature');
  if (innerHash !== hash) throw new DerError('CRL: signature algorithms disagree');
  const issuer = expectTag(fields[i++], TAG_SEQUENCE, 'CRL issuer');
  const thisUpdateElement = fields[i++];
  if (!thisUpdateElement) throw new DerError('CRL: no thisUpdate');
  const thisUpdate = decodeTime(thisUpdateElement);
  let nextUpdate: Date | null = null;
  const maybeNext = fields[i];
  if (maybeNext && (maybeNext.tag === TAG_UTC_TIME || maybeNext.tag === TAG_GENERALIZED_TIME)) {
    nextUpdate = decodeTime(maybeNext);
    i++;
  }
  const revokedSerials: string[] = [];
  if (fields[i]?.tag === TAG_SEQUENCE) {
    for (const entry of children(fields[i] as DerElement)) {
      const serial = expectTag(children(entry)[0], TAG_INTEGER, 'CRL revoked entry');
      revokedSerials.push(hex(serial.content));
    }
    i++;
  }
  if (fields[i]?.tag === TAG_CONTEXT_0) i++; // crlExtensions
  if (i !== fields.length) throw new DerError('CRL: unexpected fields in tbsCertList');

  return {
    tbs: tbsSeq.raw,
    hash,
    signature: bits.content.subarray(1),
    issuer: issuer.raw,
    thisUpdate,
    nextUpdate,
    revokedSerials,
  };
}

/** The subject and issuer Names of an X.509 certificate, DER-encoded. */
export function certificateNames(der: Uint8Array): { issuer: Uint8Array; subject: Uint8Array } {
  const [tbs] = children(expectTag(parseDer(der), TAG_SEQUENCE, 'certificate'));
  const fields = children(expectTag(tbs, TAG_SEQUENCE, 'tbsCertificate'));
  let i = fields[0]?.tag === TAG_CONTEXT_0 ? 1 : 0; // version
  i += 2; // serialNumber, signature
  const issuer = expectTag(fields[i], TAG_SEQUENCE, 'certificate issuer');
  const subject = expectTag(fields[i + 2], TAG_SEQUENCE, 'certificate subject');
  return { issuer: issuer.raw, subject: subject.raw };
}
