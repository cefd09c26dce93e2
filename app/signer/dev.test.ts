import { Signature, Transaction, verifyMessage, verifyTypedData } from 'ethers';
import { describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { DEV_SIGNER_LABEL, DevSigner } from './dev.ts';
import { MAIL_EXAMPLE } from './mail.ts';

const MAIL_TYPES = { Person: [...MAIL_EXAMPLE.types.Person], Mail: [...MAIL_EXAMPLE.types.Mail] };

describe('DevSigner', () => {
  it('is refused outside the devnet profile', () => {
    for (const profile of ['testnet', 'mainnet'] as const) {
      let error: unknown = null;
      try {
        new DevSigner(MAIL_EXAMPLE.cowPrivateKey, profile);
      } catch (e) {
        error = e;
      }
      expect(isCustosError(error, 'DevSignerNotAllowed')).toBe(true);
    }
  });

  it('is labelled as a dev key', () => {
    const signer = new DevSigner(MAIL_EXAMPLE.cowPrivateKey, 'devnet');
    expect({ kind: signer.kind, label: signer.label }).toEqual({
      kind: 'dev',
      label: DEV_SIGNER_LABEL,
    });
    expect(signer.label).toMatch(/devnet only/);
  });

  it('reproduces the EIP-712 specification’s Mail signature by the cow key', async () => {
    const signer = new DevSigner(MAIL_EXAMPLE.cowPrivateKey, 'devnet');
    expect(await signer.address()).toBe(MAIL_EXAMPLE.cowAddress);
    const sig = await signer.signTypedData(MAIL_EXAMPLE.domain, MAIL_TYPES, MAIL_EXAMPLE.message);
    expect(sig).toBe(Signature.from(MAIL_EXAMPLE.signature).serialized);
    expect(verifyTypedData(MAIL_EXAMPLE.domain, MAIL_TYPES, MAIL_EXAMPLE.message, sig)).toBe(
      MAIL_EXAMPLE.cowAddress,
    );
  });

  it('signs transactions and personal messages', async () => {
    const signer = new DevSigner(MAIL_EXAMPLE.cowPrivateKey, 'devnet');
    const tx = {
      to: MAIL_EXAMPLE.cowAddress,
      value: 1n,
      gasLimit: 21000n,
      maxFeePerGas: 2n,
      maxPriorityFeePerGas: 1n,
      chainId: 31337n,
      nonce: 0,
    };
    expect(Transaction.from(await signer.signTransaction(tx)).from).toBe(MAIL_EXAMPLE.cowAddress);
    expect(verifyMessage('hi', await signer.signPersonalMessage('hi'))).toBe(
      MAIL_EXAMPLE.cowAddress,
    );
  });
});
