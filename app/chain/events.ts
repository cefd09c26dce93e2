import { Interface, type Log, type Result } from 'ethers';
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

/** Decodes a log of the registry; undefined for a log it did not emit or cannot parse. */
export function decodeRegistryLog(log: Log): RegistryEvent | undefined {
  let parsed;
  try {
    parsed = registryInterface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  const names = parsed.fragment.inputs.map((i) => i.name);
  return {
    name: parsed.name,
    args: toArgs(parsed.args, names),
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
