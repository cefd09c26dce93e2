import { AbiCoder, id, keccak256, TypedDataEncoder, Wallet, verifyTypedData } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  CUSTOS_TYPES,
  custosDomain,
  datasetIdOf,
  digestOf,
  grantIdOf,
  splitGrantId,
  typedData,
  typedDataJson,
  typeHashOf,
  typesFor,
  type CustosPrimaryType,
} from './eip712.ts';

// anvil's first default account.
const owner = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const registry = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

describe('EIP-712 types', () => {
  it('encode each primary type as the Solidity type string in docs/eip712.md', () => {
    const expected: Record<CustosPrimaryType, string> = {
      RegisterDataset:
        'RegisterDataset(address owner,bytes16 containerId,bytes cid,bytes32 ciphertextHash,bytes32 metadataHash,uint256 nonce,uint256 deadline)',
      Grant:
        'Grant(bytes32 datasetId,address grantee,bytes32[] measurements,uint64 notBefore,uint64 notAfter,uint32 maxRuns,bytes32 purposeHash,bytes32 legalBasisHash,uint256 nonce,uint256 deadline)',
      Revoke: 'Revoke(bytes32 grantId,uint256 nonce,uint256 deadline)',
      RevokeAll: 'RevokeAll(bytes32 datasetId,uint256 nonce,uint256 deadline)',
      Freeze: 'Freeze(bytes32 datasetId,uint256 nonce,uint256 deadline)',
      Unfreeze: 'Unfreeze(bytes32 datasetId,uint256 nonce,uint256 deadline)',
      SetOperator: 'SetOperator(bytes32 datasetId,address operator,uint256 nonce,uint256 deadline)',
      TransferOwnership:
        'TransferOwnership(bytes32 datasetId,address newOwner,uint256 nonce,uint256 deadline)',
      RunResult: 'RunResult(bytes32 runId,bytes32 resultHash)',
    };
    for (const name of Object.keys(CUSTOS_TYPES) as CustosPrimaryType[]) {
      expect(TypedDataEncoder.from(typesFor(name)).encodeType(name)).toBe(expected[name]);
      expect(typeHashOf(name)).toBe(id(expected[name]));
    }
  });

  it('a Grant signed with ethers verifies to the owner, and not under another chain id', async () => {
    const datasetId = datasetIdOf(owner.address, '0x00112233445566778899aabbccddeeff');
    const request = typedData('Grant', custosDomain(31337, registry), {
      datasetId,
      grantee: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      measurements: [`0x${'ab'.repeat(32)}`],
      notBefore: 1_700_000_000n,
      notAfter: 1_800_000_000n,
      maxRuns: 5n,
      purposeHash: `0x${'01'.repeat(32)}`,
      legalBasisHash: `0x${'02'.repeat(32)}`,
      nonce: 0n,
      deadline: 1_900_000_000n,
    });
    const signature = await owner.signTypedData(request.domain, request.types, request.message);
    expect(verifyTypedData(request.domain, request.types, request.message, signature)).toBe(
      owner.address,
    );
    const otherChain = { ...request, domain: custosDomain(1, registry) };
    expect(digestOf(otherChain)).not.toBe(digestOf(request));
    expect(
      verifyTypedData(otherChain.domain, otherChain.types, otherChain.message, signature),
    ).not.toBe(owner.address);
  });

  it('typedDataJson is JSON-serialisable with the EIP712Domain type and decimal integers', () => {
    const request = typedData('Revoke', custosDomain(31337n, registry), {
      grantId: `0x${'cd'.repeat(32)}`,
      nonce: 7n,
      deadline: 1_900_000_000n,
    });
    const json = JSON.parse(JSON.stringify(typedDataJson(request))) as ReturnType<
      typeof typedDataJson
    >;
    expect(json.primaryType).toBe('Revoke');
    expect(json.types['EIP712Domain']?.map((f) => f.name)).toEqual([
      'name',
      'version',
      'chainId',
      'verifyingContract',
    ]);
    expect(json.domain).toEqual({
      name: 'Custos',
      version: '1',
      chainId: '31337',
      verifyingContract: registry,
    });
    expect(json.message['nonce']).toBe('7');
  });
});

describe('ids', () => {
  it('datasetIdOf zeroes the low 8 bytes; grantIdOf puts the grant number there', () => {
    const datasetId = datasetIdOf(owner.address, '0x00112233445566778899aabbccddeeff');
    expect(datasetId.endsWith('0'.repeat(16))).toBe(true);
    expect(datasetId.slice(0, 50)).toBe(
      keccak256(
        AbiCoder.defaultAbiCoder().encode(
          ['address', 'bytes16'],
          [owner.address, '0x00112233445566778899aabbccddeeff'],
        ),
      ).slice(0, 50),
    );
    const grantId = grantIdOf(datasetId, 3);
    expect(grantId).toBe(`${datasetId.slice(0, 50)}0000000000000003`);
    expect(splitGrantId(grantId)).toEqual({ datasetId, number: 3n });
    expect(() => grantIdOf(datasetId, 0)).toThrow(RangeError);
  });
});
