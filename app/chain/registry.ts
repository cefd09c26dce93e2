import {
  Contract,
  type ContractRunner,
  type JsonRpcProvider,
  type Signer,
  type TransactionReceipt,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustosError } from '../errors/index.ts';
import {
  custosRegistryAbi,
  type CustosRegistryFunctionName,
  type CustosRegistryFunctions,
  type Dataset,
  type Grant,
  type GrantTerms,
  type Run,
} from './abi.generated.ts';
import {
  custosDomain,
  splitGrantId,
  typedData,
  type CustosDomain,
  type CustosMessages,
  type TypedDataRequest,
} from './eip712.ts';
import { revertError, toChainError } from './errors.ts';
import { decodeRegistryLog, findEvent, type RegistryEvent } from './events.ts';

/**
 * What signs the owner's EIP-712 messages: a Ledger (app/signer), an ERC-1271 wallet's key, or on
 * devnet an ethers Wallet. Returns a 65-byte signature (or an ERC-1271 wallet's signature bytes).
 */
export interface TypedDataSigner {
  readonly address: string;
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    message: Record<string, unknown>,
  ): Promise<string>;
}

/** A transaction included in a block and followed by the requested confirmations. */
export interface ConfirmedTransaction {
  readonly hash: string;
  readonly blockNumber: number;
  readonly blockHash: string;
  readonly gasUsed: bigint;
  readonly events: readonly RegistryEvent[];
}

/** The owner messages that have a `…WithSig` function. */
export type OwnerMessage = Exclude<keyof CustosMessages, 'RunResult'>;

/** An owner message with its signature, ready for anyone to relay. */
export interface SignedMessage<P extends OwnerMessage = OwnerMessage> {
  readonly request: TypedDataRequest<P>;
  readonly signature: string;
}

type Fields<P extends OwnerMessage> = Omit<CustosMessages[P], 'nonce' | 'deadline'>;

export interface RegistryClientOptions {
  readonly provider: JsonRpcProvider;
  readonly registry: string;
  readonly chainId: number | bigint;
  /** The account that pays for and sends transactions (owner, operator or relayer). */
  readonly sender?: Signer;
  /** Confirmations to wait for; the inclusion block counts as one. Default 1. */
  readonly confirmations?: number;
  /** How long to wait for those confirmations before TransactionTimeout. Default 120 s. */
  readonly timeoutMs?: number;
  /** How often to poll for the receipt. Default 250 ms. */
  readonly pollMs?: number;
}

const WITH_SIG: Record<OwnerMessage, CustosRegistryFunctionName> = {
  RegisterDataset: 'registerDatasetWithSig',
  Grant: 'grantWithSig',
  Revoke: 'revokeWithSig',
  RevokeAll: 'revokeAllWithSig',
  Freeze: 'freezeWithSig',
  Unfreeze: 'unfreezeWithSig',
  SetOperator: 'setOperatorWithSig',
  TransferOwnership: 'transferOwnershipWithSig',
};

/** Consecutive failed polls after which the node counts as down. */
const RPC_FAILURES_BEFORE_UNAVAILABLE = 3;

/**
 * A client for every function of the Custos registry: reads, direct owner/operator calls, and
 * owner messages signed by one party and relayed by another (`sign` then `relay`).
 * Every failure is a CustosError: a decoded contract error (its own tag, or TransactionReverted,
 * with `details.error` naming the custom error), RpcUnavailable, TransactionTimeout,
 * TransactionUnderpriced or NonceTooLow.
 */
export class RegistryClient {
  readonly domain: CustosDomain;
  readonly provider: JsonRpcProvider;
  readonly address: string;
  readonly #options: RegistryClientOptions;
  readonly #contract: Contract;
  #submitting: Promise<unknown> = Promise.resolve();

  constructor(options: RegistryClientOptions) {
    this.#options = options;
    this.provider = options.provider;
    this.address = options.registry;
    this.domain = custosDomain(options.chainId, options.registry);
    const runner: ContractRunner = options.sender ?? options.provider;
    this.#contract = new Contract(options.registry, custosRegistryAbi, runner);
  }

  /** The same client sending from another account. */
  withSender(sender: Signer): RegistryClient {
    return new RegistryClient({ ...this.#options, sender });
  }

  // ------------------------------------------------------------------ reads

  /** The account nonce a RegisterDataset message of `owner` must carry. @throws RpcUnavailable */
  async nonce(owner: string): Promise<bigint> {
    return this.#read('nonces', [owner]);
  }

  /** The nonce the next owner message about this dataset must carry. @throws RpcUnavailable */
  async datasetNonce(datasetId: string): Promise<bigint> {
    return this.#read('datasetNonce', [datasetId]);
  }

  /** The dataset's state; `owner` is the zero address for an unknown dataset. @throws RpcUnavailable */
  async dataset(datasetId: string): Promise<Dataset> {
    return this.#read('getDataset', [datasetId]);
  }

  /** The grant's state; `notAfter` is 0 for an unknown grant. @throws RpcUnavailable */
  async grantState(grantId: string): Promise<Grant> {
    return this.#read('getGrant', [grantId]);
  }

  /** @throws RpcUnavailable */
  async run(runId: string): Promise<Run> {
    return this.#read('getRun', [runId]);
  }

  /** @throws RpcUnavailable */
  async isMeasurementAllowed(grantId: string, measurement: string): Promise<boolean> {
    return this.#read('isMeasurementAllowed', [grantId, measurement]);
  }

  /**
   * How a dataset was registered — its `DatasetRegistered` event: the container id (the `.custos`
   * header's dataset id, which names the key in the owner's vault), the CID and the hashes.
   * @throws DatasetNotRegistered, RpcUnavailable
   */
  async registration(
    datasetId: string,
    fromBlock = 0,
  ): Promise<{
    containerId: string;
    cid: string;
    ciphertextHash: string;
    metadataHash: string;
    owner: string;
    blockNumber: number;
    transactionHash: string;
  }> {
    const topic = this.#contract.interface.getEvent('DatasetRegistered')?.topicHash;
    let logs;
    try {
      logs = await this.provider.getLogs({
        address: this.address,
        topics: [topic ?? null, datasetId],
        fromBlock,
        toBlock: 'latest',
      });
    } catch (error) {
      throw toChainError(error, { datasetId });
    }
    for (const log of logs) {
      const event = decodeRegistryLog(log);
      if (event?.name !== 'DatasetRegistered') continue;
      return {
        containerId: event.args.containerId.replace(/^0x/, ''),
        cid: event.args.cid,
        ciphertextHash: event.args.ciphertextHash,
        metadataHash: event.args.metadataHash,
        owner: event.args.owner,
        blockNumber: event.blockNumber,
        transactionHash: event.transactionHash,
      };
    }
    throw new CustosError(
      'DatasetNotRegistered',
      `dataset ${datasetId} is not registered on this registry`,
      {
        details: { datasetId },
      },
    );
  }

  // ------------------------------------------------------------------ direct calls

  /** Registers a dataset owned by the sender. @throws DatasetExists as TransactionReverted, RpcUnavailable … */
  async registerDataset(input: {
    containerId: string;
    cid: string;
    ciphertextHash: string;
    metadataHash: string;
  }): Promise<{ datasetId: string; tx: ConfirmedTransaction }> {
    const tx = await this.send('registerDataset', [
      input.containerId,
      input.cid,
      input.ciphertextHash,
      input.metadataHash,
    ]);
    return { datasetId: required(tx, 'DatasetRegistered').args.datasetId, tx };
  }

  /** @throws NotOwner, DatasetNotRegistered, RpcUnavailable … */
  async transferOwnership(datasetId: string, newOwner: string): Promise<ConfirmedTransaction> {
    return this.send('transferOwnership', [datasetId, newOwner]);
  }

  /** @throws NotOwner, DatasetNotRegistered, RpcUnavailable … */
  async setOperator(datasetId: string, operator: string): Promise<ConfirmedTransaction> {
    return this.send('setOperator', [datasetId, operator]);
  }

  /** @throws NotOwner, DatasetFrozen (already frozen), RpcUnavailable … */
  async freeze(datasetId: string): Promise<ConfirmedTransaction> {
    return this.send('freeze', [datasetId]);
  }

  /** @throws NotOwner, TransactionReverted (DatasetNotFrozen), RpcUnavailable … */
  async unfreeze(datasetId: string): Promise<ConfirmedTransaction> {
    return this.send('unfreeze', [datasetId]);
  }

  /** @throws NotOwner, TransactionReverted (InvalidWindow, ZeroMaxRuns, NoMeasurements …), RpcUnavailable … */
  async grant(terms: GrantTerms): Promise<{ grantId: string; tx: ConfirmedTransaction }> {
    const tx = await this.send('grant', [terms]);
    return { grantId: required(tx, 'GrantCreated').args.grantId, tx };
  }

  /** @throws NotOwner, GrantNotFound, GrantRevoked (already revoked), RpcUnavailable … */
  async revoke(grantId: string): Promise<ConfirmedTransaction> {
    return this.send('revoke', [grantId]);
  }

  /** @throws NotOwner, DatasetNotRegistered, RpcUnavailable … */
  async revokeAll(datasetId: string): Promise<ConfirmedTransaction> {
    return this.send('revokeAll', [datasetId]);
  }

  /**
   * Opens a run (the sender must be the dataset's operator).
   * @throws NotOperator, DatasetFrozen, GrantNotFound, GrantRevoked, GrantNotYetValid, GrantExpired,
   * GrantExhausted, MeasurementNotAllowed, RpcUnavailable, TransactionTimeout …
   */
  async openRun(input: {
    grantId: string;
    measurement: string;
    evidenceHash: string;
    enclaveKey: string;
  }): Promise<{ runId: string; tx: ConfirmedTransaction }> {
    const tx = await this.send('openRun', [
      input.grantId,
      input.measurement,
      input.evidenceHash,
      input.enclaveKey,
    ]);
    return { runId: required(tx, 'RunOpened').args.runId, tx };
  }

  /** Closes a run with the enclave's signature; anyone may send it. @throws RunNotFound, RunAlreadyClosed, SignatureInvalid … */
  async closeRun(
    runId: string,
    resultHash: string,
    enclaveSignature: string,
  ): Promise<ConfirmedTransaction> {
    return this.send('closeRun', [runId, resultHash, enclaveSignature]);
  }

  // ------------------------------------------------------------------ signed messages

  /**
   * Has `signer` (the owner) sign an owner message for this registry, with the current on-chain
   * nonce unless one is given: the owner's account nonce for RegisterDataset, the dataset's nonce
   * for every other message.
   * @throws RpcUnavailable reading the nonce; whatever the signer throws (UserRejected, DeviceLocked …).
   */
  async sign<P extends OwnerMessage>(
    signer: TypedDataSigner,
    primaryType: P,
    fields: Fields<P>,
    options: { deadline: bigint; nonce?: bigint },
  ): Promise<SignedMessage<P>> {
    const nonce = options.nonce ?? (await this.#nonceFor(primaryType, fields));
    const message = {
      ...fields,
      nonce,
      deadline: options.deadline,
    } as unknown as CustosMessages[P];
    const request = typedData(primaryType, this.domain, message);
    const signature = await signer.signTypedData(
      request.domain,
      request.types,
      request.message as unknown as Record<string, unknown>,
    );
    return { request, signature };
  }

  /**
   * Submits a signed owner message from this client's sender. Returns the new dataset, grant id
   * when the message creates one.
   * @throws SignatureInvalid (wrong signer or nonce), SignatureExpired, and the errors of the direct call.
   */
  async relay(
    signed: SignedMessage,
  ): Promise<{ tx: ConfirmedTransaction; datasetId?: string; grantId?: string }> {
    const { request, signature } = signed;
    const m = request.message as unknown as Record<string, unknown>;
    const tail = [m['nonce'], m['deadline'], signature];
    let args: unknown[];
    switch (request.primaryType) {
      case 'RegisterDataset':
        args = [
          m['owner'],
          m['containerId'],
          m['cid'],
          m['ciphertextHash'],
          m['metadataHash'],
          ...tail,
        ];
        break;
      case 'Grant': {
        const { nonce: _n, deadline: _d, ...terms } = m;
        args = [terms, ...tail];
        break;
      }
      case 'Revoke':
        args = [m['grantId'], ...tail];
        break;
      case 'SetOperator':
        args = [m['datasetId'], m['operator'], ...tail];
        break;
      case 'TransferOwnership':
        args = [m['datasetId'], m['newOwner'], ...tail];
        break;
      case 'RevokeAll':
      case 'Freeze':
      case 'Unfreeze':
        args = [m['datasetId'], ...tail];
        break;
    }
    const tx = await this.send(WITH_SIG[request.primaryType], args);
    const registered = findEvent(tx.events, 'DatasetRegistered');
    const created = findEvent(tx.events, 'GrantCreated');
    return {
      tx,
      ...(registered ? { datasetId: registered.args.datasetId } : {}),
      ...(created ? { grantId: created.args.grantId } : {}),
    };
  }

  async #nonceFor<P extends OwnerMessage>(primaryType: P, fields: Fields<P>): Promise<bigint> {
    const f = fields as unknown as Record<string, string>;
    if (primaryType === 'RegisterDataset') return this.nonce(f['owner'] ?? '');
    const datasetId =
      primaryType === 'Revoke' ? splitGrantId(f['grantId'] ?? '0x0').datasetId : f['datasetId'];
    return this.datasetNonce(datasetId ?? '');
  }

  /** The enclave's signature over `RunResult(runId, resultHash)` for this registry. */
  async signRunResult(
    enclave: TypedDataSigner,
    runId: string,
    resultHash: string,
  ): Promise<string> {
    const request = typedData('RunResult', this.domain, { runId, resultHash });
    return enclave.signTypedData(request.domain, request.types, { runId, resultHash });
  }

  // ------------------------------------------------------------------ transaction lifecycle

  /**
   * Sends a call of `fn` and waits for its confirmations. The call is simulated first, so a revert
   * is reported (decoded) without spending gas.
   */
  async send(
    fn: CustosRegistryFunctionName,
    args: readonly unknown[],
  ): Promise<ConfirmedTransaction> {
    const sender = this.#options.sender;
    if (!sender) throw new CustosError('UsageError', `no sending account configured for ${fn}`);
    const method = this.#contract.getFunction(fn);
    const context = { function: fn };
    // Submissions from one client go one at a time, so each gets the next account nonce.
    const hash = await this.#oneAtATime(async () => {
      try {
        const gasLimit = await method.estimateGas(...args);
        const response = await method.send(...args, { gasLimit: (gasLimit * 12n) / 10n });
        return response.hash;
      } catch (error) {
        throw toChainError(error, context);
      }
    });
    return this.waitFor(hash, context);
  }

  #oneAtATime<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#submitting.then(task, task);
    this.#submitting = run.catch(() => undefined);
    return run;
  }

  /**
   * Waits for a sent transaction to be included and confirmed; use it to resume after a crash or
   * an RPC outage with the hash from the error's details.
   * @throws RpcUnavailable (details.hash), TransactionTimeout (details.hash), TransactionReverted …
   */
  async waitFor(hash: string, context: Record<string, string> = {}): Promise<ConfirmedTransaction> {
    const confirmations = this.#options.confirmations ?? 1;
    const deadline = Date.now() + (this.#options.timeoutMs ?? 120_000);
    const pollMs = this.#options.pollMs ?? 250;
    let failures = 0;
    for (;;) {
      try {
        const receipt = await this.provider.getTransactionReceipt(hash);
        if (receipt) {
          const head = await this.provider.getBlockNumber();
          if (head - receipt.blockNumber + 1 >= confirmations) {
            // re-read: the receipt must still be there (and in the same block) after the wait
            const again = await this.provider.getTransactionReceipt(hash);
            if (again?.blockHash === receipt.blockHash)
              return await this.#confirmed(again, context);
          }
        }
        failures = 0;
      } catch (error) {
        if (error instanceof CustosError) throw error;
        const tagged = toChainError(error, { ...context, hash });
        if (tagged.tag !== 'RpcUnavailable' || ++failures >= RPC_FAILURES_BEFORE_UNAVAILABLE)
          throw tagged;
      }
      if (Date.now() > deadline) {
        throw new CustosError('TransactionTimeout', `transaction ${hash} not confirmed in time`, {
          details: { ...context, hash, confirmations },
        });
      }
      await sleep(pollMs);
    }
  }

  async #confirmed(
    receipt: TransactionReceipt,
    context: Record<string, string>,
  ): Promise<ConfirmedTransaction> {
    if (receipt.status !== 1) {
      // Re-run the call at its block to learn the custom error.
      let reason: CustosError | undefined;
      try {
        const tx = await this.provider.getTransaction(receipt.hash);
        if (tx)
          await this.provider.call({
            to: tx.to,
            from: tx.from,
            data: tx.data,
            blockTag: receipt.blockNumber,
          });
      } catch (error) {
        reason = toChainError(error, { ...context, hash: receipt.hash });
      }
      throw reason?.details['error']
        ? reason
        : revertError(undefined, { ...context, hash: receipt.hash });
    }
    const events = receipt.logs
      .filter((log) => log.address.toLowerCase() === this.address.toLowerCase())
      .map(decodeRegistryLog)
      .filter((e): e is RegistryEvent => e !== undefined);
    return {
      hash: receipt.hash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      gasUsed: receipt.gasUsed,
      events,
    };
  }

  async #read<F extends CustosRegistryFunctionName>(
    fn: F,
    args: CustosRegistryFunctions[F]['args'],
  ): Promise<CustosRegistryFunctions[F]['returns']> {
    try {
      const result: unknown = await this.#contract.getFunction(fn).staticCall(...args);
      return toPlain(result) as CustosRegistryFunctions[F]['returns'];
    } catch (error) {
      throw toChainError(error, { function: fn });
    }
  }
}

/** ethers Results (structs) into plain objects with named fields. */
function toPlain(value: unknown): unknown {
  if (
    value !== null &&
    typeof value === 'object' &&
    'toObject' in value &&
    typeof value.toObject === 'function'
  ) {
    return (value as { toObject(deep?: boolean): Record<string, unknown> }).toObject(true);
  }
  return value;
}

function required<K extends RegistryEvent['name']>(
  tx: ConfirmedTransaction,
  name: K,
): Extract<RegistryEvent, { name: K }> {
  const event = findEvent(tx.events, name);
  if (!event) throw new CustosError('Internal', `transaction ${tx.hash} has no ${name} event`);
  return event;
}
