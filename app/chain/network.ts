import { JsonRpcProvider, Network } from 'ethers';
import { z } from 'zod';
import { CustosError } from '../errors/index.ts';
import { toChainError } from './errors.ts';

/**
 * Where the registry lives. `devnet`: an anvil started by Custos on a free loopback port, with the
 * contracts deployed on start (see devnet.ts). `rpc`: any EVM node by URL, with the chain id it
 * must report and the registry's address.
 */
export const NetworkProfileSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('devnet'),
    /** Blocks (the inclusion block counts as one) before a transaction or event is final. */
    confirmations: z.number().int().min(1).default(1),
  }),
  z.object({
    kind: z.literal('rpc'),
    name: z.string().min(1),
    rpcUrl: z.url({ protocol: /^(https?|wss?)$/ }),
    chainId: z.number().int().positive(),
    registry: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    /** The block the registry was deployed in: the indexer starts there. */
    startBlock: z.number().int().min(0),
    confirmations: z.number().int().min(1).default(12),
  }),
]);
export type NetworkProfile = z.infer<typeof NetworkProfileSchema>;

/**
 * An ethers provider for one chain. The network is fixed (`staticNetwork`) and nothing is cached
 * (`cacheTimeout: -1`): with anvil, cached nonces make back-to-back transactions fail.
 */
export function providerFor(rpcUrl: string, chainId: number | bigint): JsonRpcProvider {
  const network = Network.from(BigInt(chainId));
  return new JsonRpcProvider(rpcUrl, network, {
    staticNetwork: network,
    cacheTimeout: -1,
    pollingInterval: 250,
  });
}

/**
 * Checks that the node answers and reports the expected chain id.
 * @throws RpcUnavailable when it does not answer; WrongChain when its chain id differs.
 */
export async function checkChain(
  provider: JsonRpcProvider,
  chainId: number | bigint,
): Promise<void> {
  let reported: bigint;
  try {
    reported = BigInt((await provider.send('eth_chainId', [])) as string);
  } catch (error) {
    throw toChainError(error, { step: 'eth_chainId' });
  }
  if (reported !== BigInt(chainId)) {
    throw new CustosError('WrongChain', `the node is on chain ${reported}, expected ${chainId}`, {
      details: { expected: Number(chainId), reported: Number(reported) },
    });
  }
}
