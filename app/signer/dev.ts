import { getBytes, Transaction, Wallet, type TransactionLike, type TypedDataDomain } from 'ethers';
import { CustosError } from '../errors/index.ts';
import type { Signer, TypedDataTypes } from './signer.ts';

export type NetworkProfile = 'devnet' | 'testnet' | 'mainnet';

/** The label every screen shows next to a dev-key signature. */
export const DEV_SIGNER_LABEL = 'DEV KEY — devnet only, not a Ledger';

/**
 * A local private key, for the devnet only: no device, no confirmation. Refused on any other
 * profile so a vault cannot end up with policies signed by a key sitting on disk.
 */
export class DevSigner implements Signer {
  readonly kind = 'dev' as const;
  readonly label = DEV_SIGNER_LABEL;
  private readonly wallet: Wallet;

  /** @throws CustosError DevSignerNotAllowed when `profile` is not 'devnet'. */
  constructor(privateKey: string, profile: NetworkProfile) {
    if (profile !== 'devnet') {
      throw new CustosError(
        'DevSignerNotAllowed',
        `a dev key cannot sign on the ${profile} profile`,
        {
          details: { profile },
        },
      );
    }
    this.wallet = new Wallet(privateKey);
  }

  address(): Promise<string> {
    return Promise.resolve(this.wallet.address);
  }

  signTypedData(
    domain: TypedDataDomain,
    types: TypedDataTypes,
    message: Record<string, unknown>,
  ): Promise<string> {
    const mutableTypes = Object.fromEntries(Object.entries(types).map(([k, v]) => [k, [...v]]));
    return this.wallet.signTypedData(domain, mutableTypes, message);
  }

  /** @throws CustosError UsageError when the transaction has no chainId. */
  async signTransaction(tx: TransactionLike<string>): Promise<string> {
    const unsigned = Transaction.from({ ...tx, signature: null });
    if (unsigned.chainId === 0n)
      throw new CustosError('UsageError', 'a transaction to sign needs its chainId');
    return this.wallet.signTransaction(unsigned);
  }

  signPersonalMessage(message: string | Uint8Array): Promise<string> {
    return this.wallet.signMessage(typeof message === 'string' ? message : getBytes(message));
  }
}
