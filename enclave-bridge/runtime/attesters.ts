/**
 * How an enclave produces evidence for a report_data value. Two kinds:
 * - simulated: signed by the devnet's simulation key (labelled SIMULATED everywhere);
 * - TDX on real hardware: the Linux kernel's configfs-tsm report interface.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { CustosError } from '../../app/errors/index.ts';
import { produceSimulatedEvidence, type SimulationKey } from '../attestation/index.ts';
import type { ReleaseRequest } from '../key-release/index.ts';

export interface Attester {
  readonly kind: 'simulated' | 'tdx';
  evidence(reportData: Uint8Array): Promise<ReleaseRequest['evidence']>;
}

/** The simulated enclave: evidence for `measurement`, signed by the devnet's simulation key. */
export function simulatedAttester(key: SimulationKey, measurement: Uint8Array): Attester {
  return {
    kind: 'simulated',
    async evidence(reportData) {
      const bytes = await produceSimulatedEvidence({ measurement, reportData }, key);
      return { kind: 'simulated', evidence: Buffer.from(bytes).toString('base64') };
    },
  };
}

export const CONFIGFS_TSM_REPORT = '/sys/kernel/config/tsm/report';

/** The file operations configfs-tsm is used through (the kernel answers them on a TDX guest). */
export interface TsmFileSystem {
  mkdir(path: string): Promise<unknown>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  rmdir(path: string): Promise<void>;
}

const nodeFs: TsmFileSystem = {
  mkdir: (path) => fsp.mkdir(path),
  readFile: (path) => fsp.readFile(path),
  writeFile: (path, data) => fsp.writeFile(path, data),
  rmdir: (path) => fsp.rmdir(path),
};

/**
 * A TDX guest's quote through configfs-tsm (Linux ≥ 6.7): make a report entry, write the 64-byte
 * report_data to `inblob`, read the quote from `outblob`, check `generation` did not move (another
 * writer raced us), remove the entry. Collateral is fetched by the verifier, not here.
 * @throws AttestationInvalid when the interface is missing or misbehaves.
 */
export function tdxTsmAttester(root = CONFIGFS_TSM_REPORT, fs: TsmFileSystem = nodeFs): Attester {
  return {
    kind: 'tdx',
    async evidence(reportData) {
      if (reportData.length !== 64) throw new CustosError('UsageError', 'report_data is 64 bytes');
      const entry = join(root, `custos-${randomBytes(8).toString('hex')}`);
      try {
        await fs.mkdir(entry);
      } catch (error) {
        throw new CustosError(
          'AttestationInvalid',
          `configfs-tsm is not available at ${root} (not a TDX guest?)`,
          {
            cause: error,
          },
        );
      }
      try {
        const provider = (await fs.readFile(join(entry, 'provider')).catch(() => Buffer.alloc(0)))
          .toString('utf8')
          .trim();
        if (provider && provider !== 'tdx_guest') {
          throw new CustosError(
            'AttestationInvalid',
            `configfs-tsm provider is ${provider}, not tdx_guest`,
          );
        }
        await fs.writeFile(join(entry, 'inblob'), reportData);
        const before = (await fs.readFile(join(entry, 'generation'))).toString('utf8').trim();
        const quote = await fs.readFile(join(entry, 'outblob'));
        const after = (await fs.readFile(join(entry, 'generation'))).toString('utf8').trim();
        if (before !== after)
          throw new CustosError(
            'AttestationInvalid',
            'configfs-tsm report changed while it was read',
          );
        if (quote.length < 48)
          throw new CustosError('AttestationInvalid', 'configfs-tsm returned no quote');
        return { kind: 'dcap', quote: quote.toString('base64') };
      } finally {
        await fs.rmdir(entry).catch(() => undefined);
      }
    },
  };
}
