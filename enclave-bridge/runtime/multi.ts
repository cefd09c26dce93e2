/**
 * A run over several datasets, each with its own owner: one key release per dataset — each to
 * that owner's key-release service, each opening its own run on-chain — then every plaintext
 * decrypted side by side inside this process, the app run on all of them, and ONE result sealed
 * to the consumer whose hash closes every run. The runs are linked: the same result hash on-chain,
 * and the result document names every run id (the app is given them).
 *
 * Keys are released in the order given; a refusal stops there, so later datasets never open a run.
 * If anything fails after a run was opened (a later refusal, a bad model, a missing feature), every
 * opened run is closed with the hash of a sealed abort notice naming the reason — the chain then
 * shows the run ended without a result — and the error is rethrown.
 */
import { createHash } from 'node:crypto';
import { sodium } from '../../app/crypto/index.ts';
import { CustosError, isCustosError } from '../../app/errors/index.ts';
import type { ConfirmedTransaction, RegistryClient } from '../../app/chain/index.ts';
import type { DatasetStore } from '../../app/ipfs/index.ts';
import type { ReleaseResponse } from '../key-release/index.ts';
import type { Attester } from './attesters.ts';
import type { EnclaveIdentity } from './identity.ts';
import { obtainDatasetKey, runOnDataset } from './run.ts';

/** One dataset of a multi-dataset run: whose service releases its key, for which grant. */
export interface DatasetInput {
  /** The app's name for this input ("model", "data"). */
  readonly role: string;
  /** The key-release service of this dataset's owner. */
  readonly serviceUrl: string;
  readonly grantId: string;
}

/** A multi-dataset app: reads every plaintext, knows every run id, returns its result bytes. */
export type MultiDatasetEnclaveApp = (
  inputs: Readonly<Record<string, AsyncIterable<Uint8Array>>>,
  runIds: Readonly<Record<string, string>>,
) => Promise<Uint8Array>;

export interface MultiRunRecord {
  readonly role: string;
  readonly runId: string;
  readonly release: ReleaseResponse;
  readonly enclaveSignature: string;
  readonly close: ConfirmedTransaction;
}

export interface MultiRunResult {
  readonly runs: readonly MultiRunRecord[];
  readonly sealedResult: Uint8Array;
  /** 0x SHA-256 of `sealedResult`: what every run was closed with. */
  readonly resultHash: string;
}

export const ABORT_SCHEMA = 'custos.run-aborted/1';

const sha256 = (bytes: Uint8Array): string =>
  `0x${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * The whole multi-dataset run.
 * @throws the first refusal (tagged: GrantRevoked, MeasurementNotAllowed …) or the app's error
 *   (ModelMalformed, FeatureMissing …), with `details.abortedRuns` listing the runs closed with
 *   an abort notice and `details.abortNoticeHash` the hash they were closed with; `UsageError`
 *   for an empty or duplicate role list.
 */
export async function runMultiDatasetJob(options: {
  readonly inputs: readonly DatasetInput[];
  readonly identity: EnclaveIdentity;
  readonly attester: Attester;
  readonly store: DatasetStore;
  readonly app: MultiDatasetEnclaveApp;
  readonly consumerPublicKey: Uint8Array;
  readonly relayer: RegistryClient;
}): Promise<MultiRunResult> {
  const roles = options.inputs.map((i) => i.role);
  if (roles.length === 0 || new Set(roles).size !== roles.length) {
    throw new CustosError('UsageError', 'a multi-dataset run needs distinct roles');
  }
  const s = await sodium();
  const released: { input: DatasetInput; key: Uint8Array; release: ReleaseResponse }[] = [];

  const closeAll = async (
    result: Uint8Array,
  ): Promise<{ sealed: Uint8Array; hash: string; runs: MultiRunRecord[] }> => {
    const sealed = s.boxSeal(result, options.consumerPublicKey);
    const hash = sha256(sealed);
    const runs: MultiRunRecord[] = [];
    for (const { input, release } of released) {
      const enclaveSignature = await options.relayer.signRunResult(
        options.identity.result,
        release.runId,
        hash,
      );
      const close = await options.relayer.closeRun(release.runId, hash, enclaveSignature);
      runs.push({ role: input.role, runId: release.runId, release, enclaveSignature, close });
    }
    return { sealed, hash, runs };
  };

  try {
    let result: Uint8Array;
    try {
      for (const input of options.inputs) {
        const { key, release } = await obtainDatasetKey(
          input.serviceUrl,
          input.grantId,
          options.identity,
          options.attester,
        );
        released.push({ input, key, release });
      }
      const runIds = Object.fromEntries(released.map((r) => [r.input.role, r.release.runId]));
      // Each plaintext is its own verified stream; the app reads them in the order it needs.
      const nest = (
        i: number,
        inputs: Record<string, AsyncIterable<Uint8Array>>,
      ): Promise<Uint8Array> => {
        const r = released[i];
        if (!r) return options.app(inputs, runIds);
        return runOnDataset(
          options.store,
          r.release.cid,
          r.release.containerId,
          r.key,
          (plaintext) => nest(i + 1, { ...inputs, [r.input.role]: plaintext }),
        );
      };
      result = await nest(0, {});
    } catch (error) {
      if (released.length === 0) throw error;
      const e = isCustosError(error)
        ? error
        : new CustosError('Internal', error instanceof Error ? error.message : String(error), {
            cause: error,
          });
      const notice = new TextEncoder().encode(
        `${JSON.stringify({
          schema: ABORT_SCHEMA,
          runs: Object.fromEntries(released.map((r) => [r.input.role, r.release.runId])),
          reason: { tag: e.tag, message: e.message },
        })}\n`,
      );
      let closed: Awaited<ReturnType<typeof closeAll>>;
      try {
        closed = await closeAll(notice);
      } catch (closeError) {
        // The refusal is what the caller must see; the runs stay open (the chain shows that too).
        throw new CustosError(e.tag, e.message, {
          cause: error,
          details: {
            ...e.details,
            openRuns: released.map((r) => r.release.runId).join(','),
            abortNotRecorded: closeError instanceof Error ? closeError.message : String(closeError),
          },
        });
      }
      throw new CustosError(e.tag, e.message, {
        cause: error,
        details: {
          ...e.details,
          abortedRuns: closed.runs.map((r) => r.runId).join(','),
          abortNoticeHash: closed.hash,
        },
      });
    }
    const { sealed, hash, runs } = await closeAll(result);
    result.fill(0);
    return { runs, sealedResult: sealed, resultHash: hash };
  } finally {
    for (const r of released) s.memzero(r.key);
  }
}
