/**
 * Set-up steps the devnet e2e specs share: a vault with one imported dataset, published and
 * registered through the API (the UI paths have their own tests), the emulated device answered.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { Wallet } from 'ethers';
import type { Grant } from '../app/api/index.ts';
import { DEVNET_KEYS } from '../app/chain/index.ts';
import { sodium } from '../app/crypto/index.ts';
import { writeSyntheticFile } from '../app/synthetic/index.ts';
import type { emulatedOwnerSigner } from '../main/devnet.ts';
import { expect, type Custos } from './fixtures.ts';

const CSV = [
  'patient_id,sex,age,diagnosis',
  'P-0001,F,54,I25.1',
  'P-0002,M,61,I48.0',
  'P-0003,F,47,I50.9',
  '',
].join('\n');

/** A vault with one imported dataset, created through the API (the first-run UI has its own test). */
export async function vaultWithDataset(custos: Custos, patients?: number): Promise<string> {
  const h = custos.service.handlers;
  await h.createVault({ passphrase: 'granite orchid lantern seventy' });
  const path = join(custos.dir, patients ? 'patients.ndjson' : 'cardiology.csv');
  if (patients) await writeSyntheticFile(path, 'fhir-ndjson', patients);
  else await writeFile(path, CSV);
  const { jobId } = await h.startImport({
    path,
    name: 'Cardiology cohort 2024',
    description: 'Synthetic patients',
  });
  for (;;) {
    const job = await h.getImport({ jobId });
    if (job.state !== 'running') {
      expect(job.state).toBe('done');
      return job.datasetId ?? '';
    }
    await new Promise<void>((resolve) => {
      const off = custos.service.onEvent((event) => {
        if (event === 'importProgress') {
          off();
          resolve();
        }
      });
    });
  }
}

/** Presses approve on the emulated device whenever it asks (setup through the API only). */
export function autoApprove(custos: Custos): () => void {
  return custos.service.onEvent((event, payload) => {
    if (event === 'status' && 'device' in payload && payload.device.canAnswer)
      void custos.service.handlers.answerEmulatedDevice({ answer: 'approve' });
  });
}

/**
 * A published dataset with a grant to the Cardiology Research Lab (the devnet relayer's address):
 * the cohort-stats app, two runs, 30 days; with the options a simulated enclave run needs.
 */
export async function grantedToLab(custos: Custos, patients: number) {
  const datasetId = await publishedDataset(custos, patients);
  const env = custos.network?.sessions[0]?.env;
  if (!env) throw new Error('the devnet did not start');
  const off = autoApprove(custos);
  try {
    const grant: Grant = await custos.service.handlers.createGrant({
      datasetId,
      grantee: {
        address: new Wallet(DEVNET_KEYS.relayer).address,
        name: 'Cardiology Research Lab',
      },
      apps: ['cohort-stats'],
      notBefore: new Date(Date.now() - 60_000).toISOString(),
      notAfter: new Date(Date.now() + 30 * 86400_000).toISOString(),
      maxRuns: 2,
      purpose: 'Cardiology outcomes research',
      legalBasis: 'GDPR art. 9(2)(j)',
    });
    // What the simulated enclave needs to run cohort statistics under this grant.
    const runOptions = {
      app: 'cohort-stats',
      grantId: grant.grantId,
      params: {},
      consumerPublicKey: (await sodium()).boxKeypair().publicKey,
      keyReleaseUrl: env.keyRelease.url,
      ipfs: env.descriptor.ipfs,
      simulationKey: env.simulationKey,
      relayer: env.relayer,
    };
    return { datasetId, grant, runOptions };
  } finally {
    off();
  }
}

/** A dataset published and registered through the API (the UI path has its own test). */
export async function publishedDataset(custos: Custos, patients?: number): Promise<string> {
  const id = await vaultWithDataset(custos, patients);
  for (;;) {
    const s = await custos.service.handlers.getStatus({});
    if (s.network.state === 'connected') break;
    expect(s.network.state).toBe('connecting');
    await new Promise<void>((resolve) => {
      const off = custos.service.onEvent((event) => {
        if (event === 'status') {
          off();
          resolve();
        }
      });
    });
  }
  const off = autoApprove(custos);
  try {
    await custos.service.handlers.publishDataset({ id });
  } finally {
    off();
  }
  return id;
}

export async function openDataset(page: Page, custos: Custos): Promise<void> {
  await page.goto(custos.host.url);
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByTestId('open-dataset').click();
}

/** The emulated Ledger behind the devnet profile (to lock, unlock or unplug it). */
export function emulatedDevice(custos: Custos): ReturnType<typeof emulatedOwnerSigner>['device'] {
  const signer = custos.network?.signer as ReturnType<typeof emulatedOwnerSigner> | undefined;
  if (!signer?.device) throw new Error('this test needs the emulated Ledger');
  return signer.device;
}

/** Waits until the network has started around the unlocked vault. */
export async function networkConnected(custos: Custos): Promise<void> {
  for (;;) {
    const s = await custos.service.handlers.getStatus({});
    if (s.network.state === 'connected') return;
    expect(s.network.state).toBe('connecting');
    await new Promise<void>((resolve) => {
      const off = custos.service.onEvent((event) => {
        if (event === 'status') {
          off();
          resolve();
        }
      });
    });
  }
}
