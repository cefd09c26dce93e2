/**
 * The simulated enclave runner: runs an enclave app end to end against a devnet, as a real enclave
 * would — its own IPFS node fetching the ciphertext from the owner's over loopback, its own keys,
 * SIMULATED evidence signed by the devnet's simulation key, the key-release protocol over HTTP,
 * and `closeRun` relayed on-chain.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryClient } from '../../app/chain/index.ts';
import { HeliaDatasetStore } from '../../app/ipfs/index.ts';
import type { SimulationKey } from '../attestation/index.ts';
import { enclaveApp } from '../apps/index.ts';
import {
  newEnclaveIdentity,
  runEnclaveJob,
  simulatedAttester,
  type EnclaveRunResult,
} from '../runtime/index.ts';

export interface SimulatedRunOptions {
  readonly app: string;
  readonly grantId: string;
  readonly params?: unknown;
  readonly consumerPublicKey: Uint8Array;
  readonly keyReleaseUrl: string;
  /** The owner's IPFS node addresses. */
  readonly ipfs: readonly string[];
  readonly simulationKey: SimulationKey;
  readonly relayer: RegistryClient;
  /** Overrides the app's real measurement (tests of a wrong measurement). */
  readonly measurement?: string;
}

export interface SimulatedRunResult extends EnclaveRunResult {
  readonly app: string;
  readonly measurement: string;
  readonly simulated: true;
}

export async function runSimulatedEnclave(
  options: SimulatedRunOptions,
): Promise<SimulatedRunResult> {
  const app = enclaveApp(options.app);
  const measurement = options.measurement ?? (await app.measurement());
  const folder = await mkdtemp(join(tmpdir(), 'custos-enclave-'));
  const store = await HeliaDatasetStore.open({ folder, listen: [] });
  try {
    for (const address of options.ipfs) {
      try {
        await store.connect(address);
        break;
      } catch {
        // try the next address
      }
    }
    const identity = await newEnclaveIdentity();
    const attester = simulatedAttester(
      options.simulationKey,
      Buffer.from(measurement.replace(/^0x/, ''), 'hex'),
    );
    const now = new Date();
    const result = await runEnclaveJob({
      serviceUrl: options.keyReleaseUrl,
      grantId: options.grantId,
      identity,
      attester,
      store,
      app: (plaintext) => app.run(plaintext, options.params ?? {}, now),
      consumerPublicKey: options.consumerPublicKey,
      relayer: options.relayer,
    });
    return { ...result, app: app.name, measurement, simulated: true };
  } finally {
    await store.close();
    await rm(folder, { recursive: true, force: true });
  }
}
