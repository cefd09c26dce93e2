import { Interface, type EventFragment, type Log, type Result } from 'ethers';
import {
  custosRegistryAbi,
  type CustosRegistryEventName,
  type CustosRegistryEvents,
} from './abi.generated.ts';

const registryInterface = new Interface(custosRegistryAbi);

/** One registry event with where it happened. `args` follow the generated event types. */
export type RegistryEvent = {
  [K in CustosRegistryEventName]: {
    readonly name: K;
    readonly args: CustosRegistryEvents[K];
    readonly blockNumber: number;
    readonly blockHash: string;
    readonly transactionHash: string;
    readonly logIndex: number;
  };
}[CustosRegistryEventName];

function plain(value: unknown): unknown {
  if (Array.isArray(value)) return Array.from(value as unknown[], plain);
  return value;
}

function toArgs(result: Result, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  names.forEach((name, i) => {
    out[name] = plain(result[i]);
  });
  return out;
}

const byTopic = new Map<string, EventFragment>();
registryInterface.forEachEvent((fragment) => byTopic.set(fragment.topicHash, fragment));

/**
 * Decodes a log of the registry; undefined for a log it did not emit or cannot parse. The event is
 * found by its topic in a table built once (ethers' `parseLog` re-hashes every event signature for
 * each log, which dominated reading and verifying large histories).
 */
export function decodeRegistryLog(
  log: Pick<Log, 'topics' | 'data' | 'blockNumber' | 'blockHash' | 'transactionHash' | 'index'>,
): RegistryEvent | undefined {
  const fragment = log.topics[0] ? byTopic.get(log.topics[0].toLowerCase()) : undefined;
  if (!fragment) return undefined;
  let values: Result;
  try {
    values = registryInterface.decodeEventLog(fragment, log.data, log.topics);
  } catch {
    return undefined;
  }
  return {
    name: fragment.name,
    args: toArgs(
      values,
      fragment.inputs.map((i) => i.name),
    ),
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    logIndex: log.index,
  } as RegistryEvent;
}

/** The first decoded event named `name`, typed. */
export function findEvent<K extends CustosRegistryEventName>(
  events: readonly RegistryEvent[],
  name: K,
): Extract<RegistryEvent, { name: K }> | undefined {
  return events.find((e): e is Extract<RegistryEvent, { name: K }> => e.name === name);
}
