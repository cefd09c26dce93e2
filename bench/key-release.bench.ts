// Key-release latency excluding the chain's confirmation (goal p95 ≤ 50 ms) and releases per second
// on loopback, against a real devnet (anvil, automine). The floor measured in the same run is a bare
// HTTP round trip to the same server (/v1/health).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryClient } from '../app/chain/index.ts';
import { Journal, type KeyReleaseRecord } from '../app/journal/index.ts';
import { syntheticPatientsCsv } from '../app/synthetic/index.ts';
import { Vault } from '../app/vault/index.ts';
import { enclaveApp } from '../enclave-bridge/apps/index.ts';
import {
  KeyReleaseService,
  PROTOCOL_VERSION,
  RateLimiter,
  bindingReportData,
  requestChallenge,
  requestRelease,
  serveKeyRelease,
} from '../enclave-bridge/key-release/index.ts';
import { newEnclaveIdentity, simulatedAttester } from '../enclave-bridge/runtime/index.ts';
import {
  grantAccess,
  publishDataset,
  startDevnetEnvironment,
} from '../enclave-bridge/simulator/index.ts';
import type { Benchmark } from './bench.ts';

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

export const benchmark: Benchmark = {
  name: 'key release (enclave-bridge/key-release)',
  async run(ctx) {
    const vault = await Vault.create(join(ctx.scratch, 'vault'), 'bench passphrase 2026', {
      kdf: 'interactive',
    });
    const env = await startDevnetEnvironment(join(ctx.scratch, 'devnet'), vault);
    try {
      const csv = join(ctx.scratch, 'patients.csv');
      await writeFile(csv, syntheticPatientsCsv(200));
      const { datasetId } = await publishDataset(env, csv, { label: 'bench' });
      const measurement = await enclaveApp('cohort-stats').measurement();
      const now = Math.floor(Date.now() / 1000);
      const grantId = await grantAccess(env, datasetId, {
        measurements: [measurement],
        notBefore: now - 60,
        notAfter: now + 86400,
        maxRuns: 100_000,
      });

      // The same service, with its openRun timed, so the chain's part can be taken out.
      let chainMs = 0;
      const registry = new Proxy(env.operator, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (property === 'openRun') {
            return async (...args: Parameters<RegistryClient['openRun']>) => {
              const started = performance.now();
              try {
                return await target.openRun(...args);
              } finally {
                chainMs = performance.now() - started;
              }
            };
          }
          return typeof value === 'function'
            ? (value as (...a: unknown[]) => unknown).bind(target)
            : value;
        },
      });
      const journal = await Journal.open<KeyReleaseRecord>(join(ctx.scratch, 'journal.jsonl'));
      const service = new KeyReleaseService({
        registry,
        policy: { network: 'devnet', simulationKeys: [env.simulationKey.publicKey] },
        datasetKey: (c) => env.vault.datasetKey(c),
        journal,
        fromBlock: env.devnet.startBlock,
        limiter: new RateLimiter({ burst: 1e6, perSecond: 1e6 }),
      });
      const server = await serveKeyRelease(service);
      const attester = simulatedAttester(
        env.simulationKey,
        Buffer.from(measurement.slice(2), 'hex'),
      );
      const identity = await newEnclaveIdentity();
      const once = async (): Promise<{ total: number; chain: number }> => {
        const started = performance.now();
        const { nonce } = await requestChallenge(server.url);
        const reportData = bindingReportData(
          identity.box.publicKey,
          identity.result.address,
          Buffer.from(nonce, 'hex'),
        );
        await requestRelease(server.url, {
          protocol: PROTOCOL_VERSION,
          grantId,
          nonce,
          evidence: await attester.evidence(reportData),
          enclave: {
            boxPublicKey: Buffer.from(identity.box.publicKey).toString('hex'),
            resultKey: identity.result.address,
          },
        });
        return { total: performance.now() - started, chain: chainMs };
      };
      try {
        for (let i = 0; i < 20; i += 1) await once(); // warm-up
        const excluding: number[] = [];
        for (let i = 0; i < 200; i += 1) {
          const { total, chain } = await once();
          excluding.push(total - chain);
        }
        const health: number[] = [];
        for (let i = 0; i < 200; i += 1) {
          const started = performance.now();
          await (await fetch(`${server.url}/v1/health`)).json();
          health.push(performance.now() - started);
        }
        const started = performance.now();
        const count = 200;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (let i = 0; i < count / 8; i += 1) await once();
          }),
        );
        const perSecond = count / ((performance.now() - started) / 1000);
        const p95 = percentile(excluding, 95);
        ctx.log(
          `p50 ${percentile(excluding, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms excluding chain; ${perSecond.toFixed(0)} releases/s`,
        );
        const floor = {
          name: 'HTTP round trip to /v1/health, p95',
          value: percentile(health, 95),
          unit: 'ms',
        };
        return [
          {
            name: 'release latency excluding chain confirmation, p50',
            value: percentile(excluding, 50),
            unit: 'ms',
            baseline: floor,
          },
          {
            name: 'release latency excluding chain confirmation, p95',
            value: p95,
            unit: 'ms',
            baseline: floor,
            ratio: p95 / floor.value,
            goal: '≤ 50 ms',
            pass: p95 <= 50,
          },
          {
            name: 'releases per second on loopback (8 clients, anvil automine, incl. openRun)',
            value: perSecond,
            unit: '/s',
          },
        ];
      } finally {
        await server.close();
        await journal.close();
      }
    } finally {
      await env.close();
    }
  },
};
