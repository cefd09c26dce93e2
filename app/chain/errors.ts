import { Interface, isError, type ErrorDescription } from 'ethers';
import { CustosError, isCustosError, type ErrorDetails, type ErrorTag } from '../errors/index.ts';
import { custosRegistryAbi, type CustosRegistryErrorName } from './abi.generated.ts';

const registryInterface = new Interface(custosRegistryAbi);

/**
 * The contract's custom errors that have a steward-facing tag of their own. Every other revert is
 * `TransactionReverted`; all carry the decoded error name in `details.error`.
 */
const TAG_OF_ERROR: Partial<Record<CustosRegistryErrorName, ErrorTag>> = {
  NotDatasetOwner: 'NotOwner',
  NotOperator: 'NotOperator',
  UnknownDataset: 'DatasetNotRegistered',
  DatasetIsFrozen: 'DatasetFrozen',
  UnknownGrant: 'GrantNotFound',
  GrantNotYetValid: 'GrantNotYetValid',
  GrantExpired: 'GrantExpired',
  GrantIsRevoked: 'GrantRevoked',
  GrantEpochRevoked: 'GrantRevoked',
  GrantAlreadyRevoked: 'GrantRevoked',
  GrantExhausted: 'GrantExhausted',
  MeasurementNotAllowed: 'MeasurementNotAllowed',
  InvalidSignature: 'SignatureInvalid',
  InvalidEnclaveSignature: 'SignatureInvalid',
  InvalidAccountNonce: 'SignatureInvalid',
  InvalidDatasetNonce: 'SignatureInvalid',
  SignatureExpired: 'SignatureExpired',
  UnknownRun: 'RunNotFound',
  RunAlreadyClosed: 'RunAlreadyClosed',
};

/** Decodes revert data of the registry into its custom error, or undefined. */
export function decodeRegistryError(data: string | null | undefined): ErrorDescription | undefined {
  if (!data || data === '0x') return undefined;
  try {
    return registryInterface.parseError(data) ?? undefined;
  } catch {
    return undefined;
  }
}

function errorArgs(decoded: ErrorDescription): Record<string, string> {
  const out: Record<string, string> = {};
  decoded.fragment.inputs.forEach((input, i) => {
    out[`arg.${input.name || i}`] = String(decoded.args[i]);
  });
  return out;
}

/** Finds revert data anywhere ethers put it (CALL_EXCEPTION `data`, nested JSON-RPC `error.data`). */
function revertData(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === 'object'; depth++) {
    const c = current as { data?: unknown; error?: unknown; info?: { error?: unknown } };
    if (typeof c.data === 'string' && c.data.startsWith('0x')) return c.data;
    if (c.data !== null && typeof c.data === 'object') {
      const nested = (c.data as { data?: unknown }).data;
      if (typeof nested === 'string' && nested.startsWith('0x')) return nested;
    }
    current = c.error ?? c.info?.error;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === 'object'; depth++) {
    const c = current as {
      message?: unknown;
      shortMessage?: unknown;
      error?: unknown;
      info?: { error?: unknown };
    };
    if (typeof c.shortMessage === 'string') parts.push(c.shortMessage);
    if (typeof c.message === 'string') parts.push(c.message);
    current = c.error ?? c.info?.error;
  }
  return parts.join(' | ').toLowerCase();
}

/** The error a revert of the registry becomes: its own tag when it has one, else TransactionReverted. */
export function revertError(
  data: string | undefined,
  context: ErrorDetails,
  cause?: unknown,
): CustosError {
  const decoded = decodeRegistryError(data);
  if (!decoded) {
    return new CustosError('TransactionReverted', 'the transaction was reverted', {
      cause,
      details: { ...context, error: null, data: data ?? null },
    });
  }
  const name = decoded.name as CustosRegistryErrorName;
  const tag = TAG_OF_ERROR[name] ?? 'TransactionReverted';
  return new CustosError(tag, `the registry refused: ${name}`, {
    cause,
    details: { ...context, error: name, ...errorArgs(decoded) },
  });
}

/**
 * Turns anything ethers or the RPC throws into a tagged error: `RpcUnavailable` when the node
 * cannot be reached, a decoded revert, `TransactionUnderpriced`, `NonceTooLow`, `InsufficientFunds`,
 * else `Internal`.
 */
export function toChainError(error: unknown, context: ErrorDetails = {}): CustosError {
  if (isCustosError(error)) return error;
  const data = revertData(error);
  const message = messageOf(error);
  if (
    isError(error, 'CALL_EXCEPTION') ||
    data !== undefined ||
    message.includes('execution reverted')
  ) {
    return revertError(data, context, error);
  }
  if (isError(error, 'NONCE_EXPIRED') || message.includes('nonce too low')) {
    return new CustosError('NonceTooLow', 'the sending account already used that nonce', {
      cause: error,
      details: context,
    });
  }
  if (isError(error, 'INSUFFICIENT_FUNDS') || message.includes('insufficient funds')) {
    return new CustosError('InsufficientFunds', 'the sending account cannot pay the fee', {
      cause: error,
      details: context,
    });
  }
  if (
    isError(error, 'REPLACEMENT_UNDERPRICED') ||
    message.includes('underpriced') ||
    message.includes('max fee per gas less than block base fee')
  ) {
    return new CustosError('TransactionUnderpriced', 'the fee offered was too low', {
      cause: error,
      details: context,
    });
  }
  if (
    isError(error, 'NETWORK_ERROR') ||
    isError(error, 'SERVER_ERROR') ||
    isError(error, 'TIMEOUT') ||
    /econnrefused|econnreset|fetch failed|socket hang up|network|timeout/.test(message)
  ) {
    return new CustosError('RpcUnavailable', 'the blockchain node cannot be reached', {
      cause: error,
      details: context,
    });
  }
  return new CustosError('Internal', `chain call failed: ${message.slice(0, 200)}`, {
    cause: error,
    details: context,
  });
}
