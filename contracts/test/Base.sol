// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {CustosRegistry} from "../src/CustosRegistry.sol";

/// An ERC-1271 wallet with one EOA signer, standing in for a Safe.
contract OneKeyWallet {
    address public immutable signer;

    constructor(address signer_) {
        signer = signer_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        return ecrecover(hash, v, r, s) == signer ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }

    /// Lets the wallet act directly too (as a Safe executes a transaction).
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        require(msg.sender == signer, "not signer");
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}

/// Shared fixtures: a registry, an owner, an operator, an enclave key, and EIP-712 signing helpers.
abstract contract Base is Test {
    CustosRegistry internal reg;

    uint256 internal constant OWNER_PK = 0xA11CE;
    uint256 internal constant OPERATOR_PK = 0x0BE7A70;
    uint256 internal constant ENCLAVE_PK = 0xE7C1A5E;
    uint256 internal constant STRANGER_PK = 0x5757;
    address internal owner;
    address internal operator;
    address internal enclave;
    address internal stranger;
    address internal grantee = address(0x6A7EE);
    address internal relayer = address(0x4E1A7);

    bytes16 internal constant CONTAINER = bytes16(0x00112233445566778899aabbccddeeff);
    bytes internal constant CID = hex"0155122001020304050607080910111213141516171819202122232425262728293031";
    bytes32 internal constant CIPHERTEXT_HASH = keccak256("ciphertext");
    bytes32 internal constant METADATA_HASH = keccak256("metadata");
    bytes32 internal constant M1 = keccak256("cohort-statistics v1.2");
    bytes32 internal constant M2 = keccak256("cohort-statistics v1.3");
    bytes32 internal constant PURPOSE = keccak256("purpose");
    bytes32 internal constant LEGAL = keccak256("legal basis");
    bytes32 internal constant EVIDENCE = keccak256("evidence");
    bytes32 internal constant RESULT = keccak256("result");

    uint64 internal constant T0 = 1_700_000_000;

    function setUp() public virtual {
        vm.warp(T0);
        reg = new CustosRegistry();
        owner = vm.addr(OWNER_PK);
        operator = vm.addr(OPERATOR_PK);
        enclave = vm.addr(ENCLAVE_PK);
        stranger = vm.addr(STRANGER_PK);
    }

    // ------------------------------------------------------------ fixtures

    function _register() internal returns (bytes32 datasetId) {
        vm.prank(owner);
        datasetId = reg.registerDataset(CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH);
    }

    function _registerWithOperator() internal returns (bytes32 datasetId) {
        datasetId = _register();
        vm.prank(owner);
        reg.setOperator(datasetId, operator);
    }

    function _terms(bytes32 datasetId) internal pure returns (CustosRegistry.GrantTerms memory t) {
        bytes32[] memory ms = new bytes32[](1);
        ms[0] = M1;
        t = CustosRegistry.GrantTerms({
            datasetId: datasetId,
            grantee: address(0x6A7EE),
            measurements: ms,
            notBefore: T0,
            notAfter: T0 + 30 days,
            maxRuns: 3,
            purposeHash: PURPOSE,
            legalBasisHash: LEGAL
        });
    }

    function _grant(bytes32 datasetId) internal returns (bytes32 grantId) {
        vm.prank(owner);
        grantId = reg.grant(_terms(datasetId));
    }

    function _open(bytes32 grantId) internal returns (bytes32 runId) {
        vm.prank(operator);
        runId = reg.openRun(grantId, M1, EVIDENCE, enclave);
    }

    // ------------------------------------------------------------ EIP-712

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", reg.DOMAIN_SEPARATOR(), structHash));
    }

    function _sign(uint256 pk, bytes32 structHash) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, _digest(structHash));
        return abi.encodePacked(r, s, v);
    }

    function _registerHash(address who, uint256 nonce, uint256 deadline) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                reg.REGISTER_DATASET_TYPEHASH(),
                who,
                CONTAINER,
                keccak256(CID),
                CIPHERTEXT_HASH,
                METADATA_HASH,
                nonce,
                deadline
            )
        );
    }

    function _grantHash(CustosRegistry.GrantTerms memory t, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes memory head = abi.encode(
            reg.GRANT_TYPEHASH(), t.datasetId, t.grantee, keccak256(abi.encodePacked(t.measurements)), t.notBefore
        );
        bytes memory tail = abi.encode(t.notAfter, t.maxRuns, t.purposeHash, t.legalBasisHash, nonce, deadline);
        return keccak256(bytes.concat(head, tail));
    }

    function _idHash(bytes32 typeHash, bytes32 id, uint256 nonce, uint256 deadline) internal pure returns (bytes32) {
        return keccak256(abi.encode(typeHash, id, nonce, deadline));
    }

    function _idAddrHash(bytes32 typeHash, bytes32 id, address who, uint256 nonce, uint256 deadline)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(typeHash, id, who, nonce, deadline));
    }

    function _resultSig(uint256 pk, bytes32 runId, bytes32 resultHash) internal view returns (bytes memory) {
        return _sign(pk, keccak256(abi.encode(reg.RUN_RESULT_TYPEHASH(), runId, resultHash)));
    }
}
