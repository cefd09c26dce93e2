import type { ErrorTag } from '../../app/errors/index.ts';

export type TeeType = 'sgx' | 'tdx' | 'simulated';

/** Intel's TCB statuses, as TCB Info and QE Identity spell them. */
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;
export type TcbStatus = (typeof TCB_STATUSES)[number];

/** Checks whether a string is one of Intel's TCB statuses. */
export function isTcbStatus(value: string): value is TcbStatus {
  return (TCB_STATUSES as readonly string[]).includes(value);
}

/**
 * Intel's collateral for one quote, in the shape `@phala/dcap-qvl` takes (its QuoteCollateralV3):
 * issuer chains as PEM text, TCB Info and QE Identity as the exact JSON text Intel signed, CRLs and
 * signatures as lowercase hex (or byte arrays).
 */
export interface QuoteCollateral {
  readonly pck_crl_issuer_chain: string;
  readonly root_ca_crl: string | readonly number[];
  readonly pck_crl: string | readonly number[];
  readonly tcb_info_issuer_chain: string;
  readonly tcb_info: string;
  readonly tcb_info_signature: string | readonly number[];
  readonly qe_identity_issuer_chain: string;
  readonly qe_identity: string;
  readonly qe_identity_signature: string | readonly number[];
}

/** Supplies collateral for a quote: a file, or Intel PCS / a PCCS with a cache. */
export interface CollateralSource {
  /** Throws CustosError `CollateralUnavailable` when it cannot. */
  collateralFor(quote: Uint8Array, now: Date): Promise<QuoteCollateral>;
}

/** What an enclave presents: an Intel DCAP quote, or the simulated enclave's signed statement. */
export type Evidence =
  | { readonly kind: 'dcap'; readonly quote: Uint8Array; readonly collateral?: QuoteCollateral }
  | { readonly kind: 'simulated'; readonly evidence: Uint8Array };

export interface AttestationPolicy {
  /** Simulated evidence is accepted only when this is `devnet`. */
  readonly network: string;
  /** TCB statuses accepted; default `['UpToDate']`. `Revoked` is never accepted. */
  readonly allowedTcbStatuses?: readonly TcbStatus[];
  /** Ed25519 public keys of this devnet's enclave simulator; required to accept simulated evidence. */
  readonly simulationKeys?: readonly Uint8Array[];
  /** Where to get collateral when the evidence does not carry it. */
  readonly collateral?: CollateralSource;
  /** When given, the evidence's report_data must equal it (64 bytes). */
  readonly expectedReportData?: Uint8Array;
}

/** Why a verdict is not ok: an error tag and one line. */
export interface VerdictReason {
  readonly tag: ErrorTag;
  readonly message: string;
}

/**
 * The outcome of verifying evidence. Fields read from the evidence are filled in even when it is
 * refused (null where absent or unreadable), so a screen can show what was presented; only `ok`
 * says whether to trust it. Byte fields are lowercase hex without prefix.
 */
export interface Verdict {
  readonly ok: boolean;
  readonly reason: VerdictReason | null;
  readonly teeType: TeeType | null;
  readonly tcbStatus: TcbStatus | null;
  readonly advisoryIds: readonly string[];
  readonly mrEnclave: string | null;
  readonly mrSigner: string | null;
  readonly mrTd: string | null;
  readonly rtmrs: readonly [string, string, string, string] | null;
  readonly reportData: string | null;
  readonly debug: boolean | null;
  /** What a grant's allowed measurements are compared with: MRENCLAVE, MRTD, or the simulated one. */
  readonly measurement: string | null;
}
