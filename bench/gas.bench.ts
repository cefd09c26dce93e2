// Gas of each registry operation as a real transaction on the embedded devnet (receipt gasUsed:
// 21k base + calldata + execution), against the goals of issue 3. Also the devnet's start-up time.
import { performance } from 'node:perf_hooks';
import { Wallet, hexlify, keccak256, randomBytes, toUtf8Bytes } from 'ethers';
import { DEVNET_KEYS, RegistryClient, startDevnet, type GrantTerms } from '../app/chain/index.ts';
import type { Benchmark, Figure } from './bench.ts';

const h = (s: string): string => keccak256(toUtf8Bytes(s));

function gasFigure(name: string, gas: bigint, goal?: number): Figure {
  const value = Number(gas);
  return goal === undefined
    ? { name, value, unit: 'gas' }
    : { name, value, unit: 'gas', goal: `≤ ${goal} gas`, pass: value <= goal };
}

export const benchmark: Benchmark = {
  name: 'registry gas (anvil)',
  async run(ctx) {
    const t0 = performance.now();
    const devnet = await startDevnet();
    const startMs = performance.now() - t0;
    ctx.log(`devnet started and registry deployed in ${startMs.toFixed(0)} ms`);
    try {
      const owner = new Wallet(hexlify(randomBytes(32)), devnet.provider); // a Ledger-like owner: no gas
      const relayer = new Wallet(DEVNET_KEYS.relayer, devnet.provider);
      const operator = new Wallet(DEVNET_KEYS.operator, devnet.provider);
      const direct = new Wallet(DEVNET_KEYS.owner, devnet.provider); // an owner that pays its own gas
      const enclave = new Wallet(hexlify(randomBytes(32)));
      const base = {
        provider: devnet.provider,
        registry: devnet.registry,
        chainId: devnet.chainId,
        pollMs: 20,
      };
      const asRelayer = new RegistryClient({ ...base, sender: relayer });
      const asOperator = asRelayer.withSender(operator);
      const asDirect = asRelayer.withSender(direct);
      const deadline = BigInt(Math.floor(Date.now() / 1000)) + 3600n;
      const dataset = (): {
        containerId: string;
        cid: string;
        ciphertextHash: string;
        metadataHash: string;
      } => ({
        containerId: hexlify(randomBytes(16)),
        cid: `0x01551220${hexlify(randomBytes(32)).slice(2)}`, // a CIDv1 raw sha2-256: 36 bytes
        ciphertextHash: h('ciphertext'),
        metadataHash: h('metadata'),
      });
      const now = BigInt((await devnet.provider.getBlock('latest'))!.timestamp);
      const terms = (datasetId: string): GrantTerms => ({
        datasetId,
        grantee: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        measurements: [h('cohort-statistics v1.2')],
        notBefore: now,
        notAfter: now + 30n * 86_400n,
        maxRuns: 10n,
        purposeHash: h('purpose'),
        legalBasisHash: h('legal basis'),
      });

      // direct owner (pays gas)
      const registered = await asDirect.registerDataset(dataset());
      const directGrant = await asDirect.grant(terms(registered.datasetId));
      const revoke = await asDirect.revoke(directGrant.grantId);
      const revokeAll = await asDirect.revokeAll(registered.datasetId);

      // Ledger owner: everything signed and relayed; the registration is its first signature
      const reg = await asRelayer.relay(
        await asRelayer.sign(
          owner,
          'RegisterDataset',
          { owner: owner.address, ...dataset() },
          { deadline },
        ),
      );
      const datasetId = reg.datasetId!;
      await asRelayer.relay(
        await asRelayer.sign(
          owner,
          'SetOperator',
          { datasetId, operator: operator.address },
          { deadline },
        ),
      );
      const grant = await asRelayer.relay(
        await asRelayer.sign(owner, 'Grant', terms(datasetId), { deadline }),
      );

      // a grant that is the first signed message about its dataset (registered directly)
      const firstSig = await asRelayer.relay(
        await asRelayer.sign(direct, 'Grant', terms(registered.datasetId), { deadline }),
      );

      const opened = await asOperator.openRun({
        grantId: grant.grantId!,
        measurement: h('cohort-statistics v1.2'),
        evidenceHash: h('evidence'),
        enclaveKey: enclave.address,
      });
      const closed = await asRelayer.closeRun(
        opened.runId,
        h('result'),
        await asRelayer.signRunResult(enclave, opened.runId, h('result')),
      );

      return [
        {
          name: 'devnet: start anvil + deploy registry',
          value: Math.round(startMs),
          unit: 'ms',
          goal: 'a few hundred ms (≤ 1000 ms)',
          pass: startMs <= 1000,
        },
        gasFigure('registerDataset', registered.tx.gasUsed, 90_000),
        gasFigure('registerDatasetWithSig (owner’s first signature)', reg.tx.gasUsed),
        gasFigure('grant (direct)', directGrant.tx.gasUsed),
        gasFigure('grantWithSig (after a relayed SetOperator)', grant.tx.gasUsed, 110_000),
        gasFigure(
          'grantWithSig, first signed message about its dataset',
          firstSig.tx.gasUsed,
          110_000,
        ),
        gasFigure('revoke', revoke.gasUsed, 35_000),
        gasFigure('revokeAll', revokeAll.gasUsed, 35_000),
        gasFigure('openRun', opened.tx.gasUsed, 110_000),
        gasFigure('closeRun', closed.gasUsed, 60_000),
      ];
    } finally {
      await devnet.stop();
    }
  },
};
