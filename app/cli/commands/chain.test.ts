import { describe, expect, it } from 'vitest';
import { checkChain, providerFor } from '../../chain/index.ts';
import { main } from '../main.ts';
import type { Io } from '../command.ts';

function testIo(
  onStdout: (text: string) => void,
): Io & { controller: AbortController; err: string[] } {
  const controller = new AbortController();
  const err: string[] = [];
  return {
    controller,
    err,
    stdout: { write: (t: string) => onStdout(t) },
    stderr: { write: (t: string) => err.push(t) },
    env: {},
    signal: controller.signal,
    readSecret: () => Promise.reject(new Error('no prompt in tests')),
  };
}

describe('custos chain devnet', () => {
  it('prints rpcUrl, chainId and the registry address as JSON, serves until interrupted, then stops', async () => {
    let printed!: (text: string) => void;
    const firstLine = new Promise<string>((resolve) => (printed = resolve));
    const io = testIo((t) => printed(t));
    const running = main(['chain', 'devnet', '--chain-id', '1337'], io);
    const info = JSON.parse(await firstLine) as {
      rpcUrl: string;
      chainId: number;
      contracts: { registry: string };
      accounts: Record<string, { address: string }>;
    };
    expect(info.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.chainId).toBe(1337);
    expect(info.accounts['owner']?.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    const provider = providerFor(info.rpcUrl, 1337);
    await checkChain(provider, 1337);
    expect(await provider.getCode(info.contracts.registry)).not.toBe('0x');

    io.controller.abort();
    expect(await running).toBe(0);
    await expect(checkChain(provider, 1337)).rejects.toMatchObject({ tag: 'RpcUnavailable' });
    provider.destroy();
  });

  it('rejects a bad option as a usage error', async () => {
    const io = testIo(() => {});
    expect(await main(['chain', 'devnet', '--chain-id', 'zero'], io)).toBe(2);
    expect(io.err.join('')).toContain('UsageError');
  });
});
