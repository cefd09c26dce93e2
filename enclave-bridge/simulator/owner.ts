/**
 * The owner's side on a devnet, directly with the owner's key: publish a dataset (encrypt → IPFS
 * add + pin → register → name the operator) and grant an enclave app. The desktop app does the
 * same through the Ledger and relayed signatures; this is the shortest honest path for the runner,
 * the demo and tests.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { DEVNET_KEYS } from '../../app/chain/index.ts';
import { encryptFile, sodium } from '../../app/crypto/index.ts';
import type { DevnetEnvironment } from './environment.ts';

const sha256 = (bytes: Uint8Array | string): string =>
  `0x${createHash('sha256').update(bytes).digest('hex')}`;

export interface StoredDataset {
  readonly containerId: string;
  readonly cid: string;
  readonly containerPath: string;
  /** The fields of a `registerDataset` / signed `RegisterDataset` (0x hex). */
  readonly registration: {
    readonly containerId: string;
    readonly cid: string;
    readonly ciphertextHash: string;
    readonly metadataHash: string;
  };
}

export interface PublishedDataset extends StoredDataset {
  readonly datasetId: string;
}

/** Encrypts `file` with a new key in the vault and adds the container to the owner's IPFS node, pinned. */
export async function storeDataset(
  env: DevnetEnvironment,
  file: string,
  options: { label: string; metadata?: Record<string, unknown> },
): Promise<StoredDataset> {
  const { id: containerId } = await env.vault.addDataset(options.label);
  const containerPath = join(env.dir, `${containerId}.custos`);
  const key = env.vault.datasetKey(containerId);
  await encryptFile(
    { sodium: await sodium(), datasetKey: key, datasetId: containerId },
    file,
    containerPath,
  );
  key.fill(0);
  const { cid } = await env.store.add(containerPath, { noCopy: true });
  await env.store.pin(cid);
  return {
    containerId,
    cid: cid.toString(),
    containerPath,
    registration: {
      containerId: `0x${containerId}`,
      cid: `0x${Buffer.from(cid.bytes).toString('hex')}`,
      ciphertextHash: sha256(await readFile(containerPath)),
      metadataHash: sha256(JSON.stringify({ label: options.label, ...options.metadata })),
    },
  };
}

/** Stores `file`, registers it with the owner's key directly, and names the devnet operator. */
export async function publishDataset(
  env: DevnetEnvironment,
  file: string,
  options: { label: string; metadata?: Record<string, unknown> },
): Promise<PublishedDataset> {
  const stored = await storeDataset(env, file, options);
  const { datasetId } = await env.owner.registerDataset(stored.registration);
  await env.owner.setOperator(datasetId, DEVNET_OPERATOR);
  return { ...stored, datasetId };
}

/** The devnet key-release service's operator address. */
export const DEVNET_OPERATOR = new Wallet(DEVNET_KEYS.operator).address;

/** Grants `measurements` access to a dataset for a window and a number of runs. Returns the grant id. */
export async function grantAccess(
  env: DevnetEnvironment,
  datasetId: string,
  terms: {
    measurements: readonly string[];
    notBefore: number;
    notAfter: number;
    maxRuns: number;
    grantee?: string;
    purpose?: string;
    legalBasis?: string;
  },
): Promise<string> {
  const { grantId } = await env.owner.grant({
    datasetId,
    grantee: terms.grantee ?? new Wallet(DEVNET_KEYS.relayer).address,
    measurements: terms.measurements,
    notBefore: BigInt(terms.notBefore),
    notAfter: BigInt(terms.notAfter),
    maxRuns: BigInt(terms.maxRuns),
    purposeHash: sha256(terms.purpose ?? 'research'),
    legalBasisHash: sha256(terms.legalBasis ?? 'consent'),
  });
  return grantId;
}
