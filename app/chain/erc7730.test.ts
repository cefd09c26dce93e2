import { readFileSync } from 'node:fs';
import { Wallet, getCreateAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { DEVNET_KEYS } from './devnet.ts';
import { CUSTOS_TYPES, DOMAIN_NAME, DOMAIN_VERSION, EIP712_DOMAIN_TYPE } from './eip712.ts';

interface Descriptor {
  context: {
    eip712: {
      domain: { name: string; version: string };
      deployments: { chainId: number; address: string }[];
      schemas: { primaryType: string; types: Record<string, { name: string; type: string }[]> }[];
    };
  };
  display: {
    formats: Record<string, { intent: string; fields: { path: string }[]; excluded?: string[] }>;
  };
}

const descriptor = JSON.parse(
  readFileSync(new URL('../../contracts/erc7730-custos.json', import.meta.url), 'utf8'),
) as Descriptor;

describe('ERC-7730 clear-signing descriptor (contracts/erc7730-custos.json)', () => {
  const ownerTypes = Object.keys(CUSTOS_TYPES).filter((t) => t !== 'RunResult');

  it('describes exactly the owner message types of app/chain/eip712.ts, under the same domain', () => {
    expect(descriptor.context.eip712.domain).toEqual({
      name: DOMAIN_NAME,
      version: DOMAIN_VERSION,
    });
    const schemas = descriptor.context.eip712.schemas;
    expect(schemas.map((s) => s.primaryType).sort()).toEqual([...ownerTypes].sort());
    for (const s of schemas) {
      expect(s.types).toEqual({
        EIP712Domain: EIP712_DOMAIN_TYPE,
        [s.primaryType]: CUSTOS_TYPES[s.primaryType as keyof typeof CUSTOS_TYPES],
      });
    }
  });

  it('shows or deliberately excludes every field of every message', () => {
    for (const type of ownerTypes) {
      const format = descriptor.display.formats[type];
      expect(format?.intent).toBeTruthy();
      const covered = new Set([
        ...(format?.fields ?? []).map((f) => f.path.replace(/\.\[\]$/, '')),
        ...(format?.excluded ?? []),
      ]);
      for (const field of CUSTOS_TYPES[type as keyof typeof CUSTOS_TYPES]) {
        expect(covered, `${type}.${field.name}`).toContain(field.name);
      }
    }
    // a steward sees dataset, grantee, window and runs of a grant
    expect(descriptor.display.formats['Grant']?.fields.map((f) => f.path)).toEqual(
      expect.arrayContaining(['datasetId', 'grantee', 'notBefore', 'notAfter', 'maxRuns']),
    );
  });

  it('names the devnet deployment (the first contract of the devnet owner key)', () => {
    const deployer = new Wallet(DEVNET_KEYS.owner).address;
    expect(descriptor.context.eip712.deployments).toContainEqual({
      chainId: 31337,
      address: getCreateAddress({ from: deployer, nonce: 0 }),
    });
  });
});
