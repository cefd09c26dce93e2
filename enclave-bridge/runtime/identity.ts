import { Wallet } from 'ethers';
import { sodium } from '../../app/crypto/index.ts';

/**
 * The keys an enclave makes for one run, inside the enclave, never leaving it:
 * an X25519 key pair the dataset key is sealed to, and a secp256k1 key whose address the chain
 * records at `openRun` and whose signature over the result closes the run.
 */
export interface EnclaveIdentity {
  readonly box: { readonly publicKey: Uint8Array; readonly secretKey: Uint8Array };
  readonly result: Wallet;
}

export async function newEnclaveIdentity(): Promise<EnclaveIdentity> {
  const s = await sodium();
  const random = Wallet.createRandom();
  return { box: s.boxKeypair(), result: new Wallet(random.privateKey) };
}
