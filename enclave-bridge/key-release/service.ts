/**
 * The key-release service: the only place a dataset key leaves the owner's vault, and only
 *   1. to evidence that verifies under the owner's attestation policy,
 *   2. bound (report_data) to the enclave's own keys and a fresh challenge of ours,
 *   3. after the chain recorded the run (`openRun`, which checks the grant atomically) and the
 *      transaction is confirmed,
 *   4. sealed to the attested enclave key (`crypto_box_seal`), and
 *   5. once the decision is on disk in the hash-chained journal.
 * Every refusal is journaled with its reason too. Protocol: docs/key-release.md.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { CustosError, fromFsError, isCustosError, type ErrorTag } from '../../app/errors/index.ts';
import { splitGrantId, type RegistryClient } from '../../app/chain/index.ts';
import { sodium, type SodiumBackend } from '../../app/crypto/index.ts';
import type { Journal, KeyReleaseRecord } from '../../app/journal/index.ts';
import {
  verify,
  type AttestationPolicy,
  type Evidence,
  type Verdict,
} from '../attestation/index.ts';
import { ChallengeBook } from './challenges.ts';
import {
  PROTOCOL_VERSION,
  ReleaseRequestSchema,
  bindingReportData,
  type ChallengeResponse,
  type ReleaseRequest,
  type ReleaseResponse,
} from './protocol.ts';
import { RateLimiter } from './rate-limit.ts';

export interface KeyReleaseOptions {
  /** The registry client, sending from the operator's hot key. */
  readonly registry: RegistryClient;
  /** The owner's attestation policy (network, accepted TCB statuses, simulation keys, collateral). */
  readonly policy: Omit<AttestationPolicy, 'expectedReportData'>;
  /** The dataset key for a container id (the vault); throws `UnknownDataset` when absent. */
  readonly datasetKey: (containerId: string) => Uint8Array | Promise<Uint8Array>;
  readonly journal: Journal<KeyReleaseRecord>;
  /**
   * A folder where every presented evidence is kept, named by its SHA-256 (hex), so that usage
   * proofs can embed it (`custos proof export --evidence DIR`).
   */
  readonly evidenceDir?: string;
  /** Block from which to look for dataset registrations (the registry's deployment block). */
  readonly fromBlock?: number;
  readonly challenges?: ChallengeBook;
  readonly limiter?: RateLimiter;
  readonly now?: () => Date;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const sha256 = (bytes: Uint8Array): string =>
  `0x${createHash('sha256').update(bytes).digest('hex')}`;

function evidenceOf(request: ReleaseRequest): { evidence: Evidence; bytes: Uint8Array } {
  if (request.evidence.kind === 'simulated') {
    const bytes = Buffer.from(request.evidence.evidence, 'base64');
    return { evidence: { kind: 'simulated', evidence: bytes }, bytes };
  }
  const quote = Buffer.from(request.evidence.quote, 'base64');
  const collateral = request.evidence.collateral as Extract<
    Evidence,
    { kind: 'dcap' }
  >['collateral'];
  return { evidence: { kind: 'dcap', quote, ...(collateral ? { collateral } : {}) }, bytes: quote };
}

export class KeyReleaseService {
  readonly #o: KeyReleaseOptions;
  readonly #challenges: ChallengeBook;
  readonly #limiter: RateLimiter;
  readonly #now: () => Date;
  #sodium: SodiumBackend | undefined;

  constructor(options: KeyReleaseOptions) {
    this.#o = options;
    this.#challenges = options.challenges ?? new ChallengeBook();
    this.#limiter = options.limiter ?? new RateLimiter();
    this.#now = options.now ?? (() => new Date());
  }

  /** A fresh single-use nonce. @throws RateLimited */
  challenge(client: string): ChallengeResponse {
    if (!this.#limiter.take(client))
      throw new CustosError('RateLimited', 'too many requests from this client');
    const { nonce, expiresAt } = this.#challenges.issue();
    return { protocol: PROTOCOL_VERSION, nonce, expiresAt };
  }

  /**
   * Decides one release request. Resolves with the sealed key only after the run is confirmed
   * on-chain and journaled; otherwise journals the refusal and throws its tagged error
   * (`RateLimited`, `UsageError`, `ChallengeUnknown`, `ChallengeExpired`, `AttestationInvalid`,
   * `TcbNotAllowed`, `DebugEnclave`, `SimulatedNotAllowed`, `ReportDataMismatch`,
   * `DatasetNotRegistered`, `UnknownDataset`, `GrantExpired`, `GrantRevoked`, `GrantExhausted`,
   * `GrantNotYetValid`, `MeasurementNotAllowed`, `DatasetFrozen`, `NotOperator`, `RpcUnavailable` …).
   */
  async release(body: unknown, client: string): Promise<ReleaseResponse> {
    const { registry } = this.#o;
    const record: Mutable<KeyReleaseRecord> = {
      kind: 'key-release',
      decision: 'refused',
      reason: null,
      message: null,
      client,
      chainId: Number(registry.domain.chainId),
      registry: registry.address,
      grantId: null,
      datasetId: null,
      measurement: null,
      teeType: null,
      tcbStatus: null,
      evidenceHash: null,
      enclaveKey: null,
      boxPublicKey: null,
      runId: null,
      txHash: null,
      blockNumber: null,
    };
    try {
      return await this.#decide(body, client, record);
    } catch (error) {
      const e = isCustosError(error)
        ? error
        : new CustosError('Internal', error instanceof Error ? error.message : String(error), {
            cause: error,
          });
      if (record.decision === 'released') throw e; // journaling the release itself failed: nothing was sent
      record.reason = e.tag;
      record.message = e.message;
      try {
        await this.#o.journal.append(record);
      } catch (journalError) {
        throw new CustosError('Internal', 'refusal could not be journaled', {
          cause: journalError,
        });
      }
      throw e;
    }
  }

  async #decide(
    body: unknown,
    client: string,
    record: Mutable<KeyReleaseRecord>,
  ): Promise<ReleaseResponse> {
    const { registry } = this.#o;
    if (!this.#limiter.take(client))
      throw new CustosError('RateLimited', 'too many requests from this client');
    const parsed = ReleaseRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CustosError(
        'UsageError',
        `malformed release request: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      );
    }
    const request = parsed.data;
    const grantId = request.grantId.toLowerCase();
    const { datasetId } = splitGrantId(grantId);
    Object.assign(record, {
      grantId,
      datasetId,
      enclaveKey: request.enclave.resultKey,
      boxPublicKey: request.enclave.boxPublicKey,
    });

    // The nonce is spent first, whatever happens next: a request can never be replayed.
    this.#challenges.spend(request.nonce);

    const { evidence, bytes } = evidenceOf(request);
    record.evidenceHash = sha256(bytes);
    if (this.#o.evidenceDir) await keepEvidence(this.#o.evidenceDir, record.evidenceHash, bytes);
    const boxPublicKey = Buffer.from(request.enclave.boxPublicKey, 'hex');
    const expectedReportData = bindingReportData(
      boxPublicKey,
      request.enclave.resultKey,
      Buffer.from(request.nonce, 'hex'),
    );
    const verdict: Verdict = await verify(
      evidence,
      { ...this.#o.policy, expectedReportData },
      this.#now(),
    );
    record.teeType = verdict.teeType;
    record.tcbStatus = verdict.tcbStatus;
    record.measurement = verdict.measurement ? `0x${verdict.measurement}` : null;
    if (!verdict.ok || !record.measurement) {
      const reason = verdict.reason ?? {
        tag: 'AttestationInvalid' as ErrorTag,
        message: 'no measurement in the evidence',
      };
      throw new CustosError(reason.tag, reason.message);
    }

    // Which key: the container named at registration, held in the owner's vault.
    const registration = await registry.registration(datasetId, this.#o.fromBlock ?? 0);
    const datasetKey = await this.#o.datasetKey(registration.containerId);

    try {
      // The chain decides (window, runs left, measurement, revocation, epoch, frozen) and records.
      const { runId, tx } = await registry
        .openRun({
          grantId,
          measurement: record.measurement,
          evidenceHash: record.evidenceHash,
          enclaveKey: request.enclave.resultKey,
        })
        .catch(async (error: unknown) => {
          // A refusal by the chain was decided against a state no later than the head read now:
          // the audit orders it after that block (after the revoke that caused it, say).
          record.blockNumber = await registry.provider.getBlockNumber().catch(() => null);
          throw error;
        });
      Object.assign(record, { runId, txHash: tx.hash, blockNumber: tx.blockNumber });

      this.#sodium ??= await sodium();
      const sealedKey = this.#sodium.boxSeal(datasetKey, boxPublicKey);
      record.decision = 'released';
      const entry = await this.#o.journal.append(record);
      return {
        protocol: PROTOCOL_VERSION,
        runId,
        grantId,
        datasetId,
        containerId: registration.containerId,
        cid: CID.decode(Buffer.from(registration.cid.replace(/^0x/, ''), 'hex')).toString(),
        txHash: tx.hash,
        blockNumber: tx.blockNumber,
        sealedKey: Buffer.from(sealedKey).toString('base64'),
        journalEntry: entry.hash,
      };
    } finally {
      datasetKey.fill(0);
    }
  }
}

/** Writes evidence once under its hash (a second copy of the same bytes is not written again). */
async function keepEvidence(dir: string, hash: string, bytes: Uint8Array): Promise<void> {
  const path = join(dir, hash.replace(/^0x/, ''));
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fromFsError(error, path);
  }
}

/** The HTTP status a refusal maps to. */
export function httpStatusOf(tag: ErrorTag): number {
  switch (tag) {
    case 'UsageError':
      return 400;
    case 'RateLimited':
      return 429;
    case 'RpcUnavailable':
    case 'TransactionTimeout':
    case 'CollateralUnavailable':
      return 503;
    case 'Internal':
      return 500;
    default:
      return 403;
  }
}
