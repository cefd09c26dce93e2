/**
 * What an enclave app links: obtain the dataset key for a grant (challenge → evidence bound to the
 * enclave's keys → release), stream the ciphertext from IPFS and decrypt it, run the app on the
 * plaintext, seal the result to the consumer, sign its hash and close the run on-chain.
 * The plaintext never leaves this process; only the sealed result and hashes do.
 */
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import { channel, decryptStream, iterableSource, sodium } from '../../app/crypto/index.ts';
import { CustosError } from '../../app/errors/index.ts';
import type { ConfirmedTransaction, RegistryClient } from '../../app/chain/index.ts';
import type { DatasetStore } from '../../app/ipfs/index.ts';
import {
  PROTOCOL_VERSION,
  bindingReportData,
  requestChallenge,
  requestRelease,
  type ReleaseResponse,
} from '../key-release/index.ts';
import type { Attester } from './attesters.ts';
import type { EnclaveIdentity } from './identity.ts';

/**
 * Asks the key-release service for the key of the grant's dataset.
 * @throws the service's refusal (tagged), or `KeyReleaseRefused` when the sealed key does not open.
 */
export async function obtainDatasetKey(
  serviceUrl: string,
  grantId: string,
  identity: EnclaveIdentity,
  attester: Attester,
): Promise<{ key: Uint8Array; release: ReleaseResponse }> {
  const { nonce } = await requestChallenge(serviceUrl);
  const reportData = bindingReportData(
    identity.box.publicKey,
    identity.result.address,
    Buffer.from(nonce, 'hex'),
  );
  const release = await requestRelease(serviceUrl, {
    protocol: PROTOCOL_VERSION,
    grantId,
    nonce,
    evidence: await attester.evidence(reportData),
    enclave: {
      boxPublicKey: Buffer.from(identity.box.publicKey).toString('hex'),
      resultKey: identity.result.address,
    },
  });
  const s = await sodium();
  const key = s.boxSealOpen(
    Buffer.from(release.sealedKey, 'base64'),
    identity.box.publicKey,
    identity.box.secretKey,
  );
  if (!key || key.length !== 32)
    throw new CustosError(
      'KeyReleaseRefused',
      'the released key does not open with this enclave’s key',
    );
  return { key, release };
}

/** An enclave app: reads the verified plaintext, returns its result bytes. */
export type EnclaveApp = (plaintext: AsyncIterable<Uint8Array>) => Promise<Uint8Array>;

/**
 * Decrypts the container behind `cid` while `app` reads it. The app sees the end of its input only
 * after the whole container verified (final chunk included); a tampered or truncated container
 * makes its input throw, so no result is produced from unverified data.
 */
export async function runOnDataset(
  store: DatasetStore,
  cid: string,
  containerId: string,
  key: Uint8Array,
  app: EnclaveApp,
): Promise<Uint8Array> {
  const s = await sodium();
  const pipe = channel();
  const source = iterableSource(store.cat(CID.parse(cid), { offline: false }));
  const decrypting = decryptStream(
    {
      sodium: s,
      keyFor: (id) => {
        if (id !== containerId) {
          throw new CustosError(
            'WrongKey',
            `the content at ${cid} is container ${id}, not the released dataset ${containerId}`,
          );
        }
        return key;
      },
    },
    source,
    pipe.sink,
  ).then(
    () => pipe.end(),
    (error: unknown) => {
      pipe.fail(error);
      throw error;
    },
  );
  const [result] = await Promise.all([app(pipe.chunks), decrypting]);
  return result;
}

export interface EnclaveRunResult {
  readonly runId: string;
  readonly release: ReleaseResponse;
  /** The result, sealed to the consumer's X25519 key (crypto_box_seal). */
  readonly sealedResult: Uint8Array;
  /** 0x SHA-256 of `sealedResult`: what the enclave signs and the chain records. */
  readonly resultHash: string;
  readonly enclaveSignature: string;
  readonly close: ConfirmedTransaction;
}

/**
 * One whole enclave run: key → decrypt → compute → seal to consumer → sign → closeRun.
 * `relayer` is any registry client able to send a transaction (closing needs no special right).
 */
export async function runEnclaveJob(options: {
  readonly serviceUrl: string;
  readonly grantId: string;
  readonly identity: EnclaveIdentity;
  readonly attester: Attester;
  readonly store: DatasetStore;
  readonly app: EnclaveApp;
  readonly consumerPublicKey: Uint8Array;
  readonly relayer: RegistryClient;
}): Promise<EnclaveRunResult> {
  const { key, release } = await obtainDatasetKey(
    options.serviceUrl,
    options.grantId,
    options.identity,
    options.attester,
  );
  const s = await sodium();
  let result: Uint8Array;
  try {
    result = await runOnDataset(options.store, release.cid, release.containerId, key, options.app);
  } finally {
    s.memzero(key);
  }
  const sealedResult = s.boxSeal(result, options.consumerPublicKey);
  result.fill(0);
  const resultHash = `0x${createHash('sha256').update(sealedResult).digest('hex')}`;
  const enclaveSignature = await options.relayer.signRunResult(
    options.identity.result,
    release.runId,
    resultHash,
  );
  const close = await options.relayer.closeRun(release.runId, resultHash, enclaveSignature);
  return { runId: release.runId, release, sealedResult, resultHash, enclaveSignature, close };
}
