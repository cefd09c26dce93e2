import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { CustosError, fromFsError } from '../../errors/index.ts';
import { RegistryClient, checkChain } from '../../chain/index.ts';
import { Journal, type KeyReleaseRecord } from '../../journal/index.ts';
import {
  INTEL_PCS_URL,
  PcsCollateralSource,
  isTcbStatus,
  simulationKeyFromSeed,
  type TcbStatus,
} from '../../../enclave-bridge/attestation/index.ts';
import { KeyReleaseService, serveKeyRelease } from '../../../enclave-bridge/key-release/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';
import { openVault } from '../vault-access.ts';

const help = `usage: custos serve-keys --vault DIR --rpc URL --chain-id N --registry ADDRESS --journal FILE
                         [--network NAME] [--allow-tcb STATUS[,STATUS…]] [--pccs URL]
                         [--simulation-key FILE] [--from-block N] [--host HOST] [--port PORT]

Runs the key-release service headless (for a server), until interrupted. The vault passphrase
comes from CUSTOS_PASSPHRASE, the operator's hot key (it may only open runs) from
CUSTOS_OPERATOR_KEY. Every decision is appended to the journal FILE.
Attestation policy: Intel DCAP quotes with TCB status UpToDate, plus any --allow-tcb statuses;
collateral from Intel PCS or --pccs URL. Simulated enclaves only when --network devnet and a
--simulation-key FILE (hex seed) is given. Binds 127.0.0.1 unless --host says otherwise.
`;

export const serveKeys: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        vault: { type: 'string' },
        rpc: { type: 'string' },
        'chain-id': { type: 'string' },
        registry: { type: 'string' },
        journal: { type: 'string' },
        network: { type: 'string' },
        'allow-tcb': { type: 'string' },
        pccs: { type: 'string' },
        'simulation-key': { type: 'string' },
        'from-block': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
      },
      help,
    );
    if (positionals.length > 0) throw new CustosError('UsageError', help);
    const chainId = Number(required(values['chain-id'], 'chain-id'));
    if (!Number.isInteger(chainId) || chainId < 1)
      throw new CustosError('UsageError', '--chain-id is a positive whole number');
    const registryAddress = required(values.registry, 'registry');
    if (!/^0x[0-9a-fA-F]{40}$/.test(registryAddress))
      throw new CustosError('UsageError', '--registry is a 0x address');
    const operatorKey = io.env['CUSTOS_OPERATOR_KEY'];
    if (!operatorKey)
      throw new CustosError('UsageError', 'set CUSTOS_OPERATOR_KEY to the operator’s private key');
    const network = values.network ?? 'custom';
    const allowed: TcbStatus[] = ['UpToDate'];
    for (const s of (values['allow-tcb'] ?? '').split(',').filter(Boolean)) {
      if (!isTcbStatus(s)) throw new CustosError('UsageError', `unknown TCB status ${s}`);
      allowed.push(s);
    }
    let simulationKeys: Uint8Array[] = [];
    if (values['simulation-key']) {
      if (network !== 'devnet')
        throw new CustosError('UsageError', '--simulation-key is for --network devnet only');
      const path = resolve(values['simulation-key']);
      const seed = await readFile(path, 'utf8').catch((e: unknown) =>
        Promise.reject(fromFsError(e, path)),
      );
      simulationKeys = [(await simulationKeyFromSeed(Buffer.from(seed.trim(), 'hex'))).publicKey];
    }
    const provider = new JsonRpcProvider(required(values.rpc, 'rpc'), chainId, {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    await checkChain(provider, chainId);
    const registry = new RegistryClient({
      provider,
      registry: registryAddress,
      chainId,
      sender: new Wallet(operatorKey, provider),
    });
    const vault = await openVault(io, required(values.vault, 'vault'));
    const journal = await Journal.open<KeyReleaseRecord>(
      resolve(required(values.journal, 'journal')),
    );
    const service = new KeyReleaseService({
      registry,
      policy: {
        network,
        allowedTcbStatuses: allowed,
        simulationKeys,
        collateral: new PcsCollateralSource({ baseUrl: values.pccs ?? INTEL_PCS_URL }),
      },
      datasetKey: (containerId) => vault.datasetKey(containerId),
      journal,
      fromBlock: Number(values['from-block'] ?? 0),
    });
    const server = await serveKeyRelease(service, {
      host: values.host ?? '127.0.0.1',
      ...(values.port ? { port: Number(values.port) } : {}),
    });
    try {
      io.stdout.write(
        `${JSON.stringify({ url: server.url, operator: new Wallet(operatorKey).address, network, journal: journal.path })}\n`,
      );
      await new Promise<void>((done) => {
        if (io.signal.aborted) return done();
        io.signal.addEventListener('abort', () => done(), { once: true });
      });
    } finally {
      await server.close();
      await journal.close();
      vault.lock();
    }
    return 0;
  },
};
