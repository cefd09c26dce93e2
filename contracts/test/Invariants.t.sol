// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Test} from "forge-std/Test.sol";
import {CustosRegistry} from "../src/CustosRegistry.sol";

/// Drives the registry with random owner, operator, stranger and enclave actions, keeps an
/// independent model of what the policy allows, and counts every disagreement.
contract Handler is CommonBase, StdCheats, StdUtils {
    CustosRegistry public immutable reg;
    uint256 internal constant OWNER_PK = 0xA11CE;
    uint256 internal constant ENCLAVE_PK = 0xE7C1A5E;
    address public immutable owner;
    address public immutable operator;
    address public immutable enclave;
    bytes32 public immutable datasetId;
    bytes32 internal constant M1 = keccak256("m1");
    bytes32 internal constant M2 = keccak256("m2");

    struct Model {
        uint64 notBefore;
        uint64 notAfter;
        uint32 maxRuns;
        uint32 runsUsed;
        uint32 epoch;
        bool revoked;
    }

    struct UsedSignature {
        CustosRegistry.GrantTerms terms;
        uint256 nonce;
        bytes signature;
    }

    bytes32[] public grantIds;
    mapping(bytes32 => Model) public model;
    bytes32[] public runIds;
    mapping(bytes32 => bool) public closed;
    UsedSignature[] internal used;
    uint32 public epoch;
    bool public frozen;

    // Every disagreement with the model; the invariants require all to stay zero.
    uint256 public openedWhenInvalid;
    uint256 public refusedWhenValid;
    uint256 public openedByNonOperator;
    uint256 public closedByWrongKey;
    uint256 public closedTwice;
    uint256 public signatureReused;
    uint256 public crossChainAccepted;
    uint256 public opened;

    constructor(CustosRegistry reg_, address operator_, bytes32 datasetId_) {
        reg = reg_;
        owner = vm.addr(OWNER_PK);
        operator = operator_;
        enclave = vm.addr(ENCLAVE_PK);
        datasetId = datasetId_;
    }

    function grantCount() external view returns (uint256) {
        return grantIds.length;
    }

    function grant(uint64 startOffset, uint64 span, uint32 maxRuns, bool bothMeasurements, bool withSig) external {
        // half the grants start now, so that runs open often enough to exercise the checks
        uint64 notBefore = uint64(block.timestamp) + (startOffset % 2 == 0 ? 0 : uint64(bound(startOffset, 0, 3 days)));
        uint64 notAfter = notBefore + uint64(bound(span, 1, 10 days));
        maxRuns = uint32(bound(maxRuns, 1, 5));
        bytes32[] memory ms = new bytes32[](bothMeasurements ? 2 : 1);
        ms[0] = M1;
        if (bothMeasurements) ms[1] = M2;
        CustosRegistry.GrantTerms memory t = CustosRegistry.GrantTerms({
            datasetId: datasetId,
            grantee: address(0xBEEF),
            measurements: ms,
            notBefore: notBefore,
            notAfter: notAfter,
            maxRuns: maxRuns,
            purposeHash: bytes32(0),
            legalBasisHash: bytes32(0)
        });
        bytes32 g;
        if (withSig) {
            uint256 nonce = reg.datasetNonce(datasetId);
            bytes memory sig = _sign(_grantDigest(t, nonce, block.timestamp, block.chainid, address(reg)));
            g = reg.grantWithSig(t, nonce, block.timestamp, sig);
            used.push();
            UsedSignature storage u = used[used.length - 1];
            u.terms = t;
            u.nonce = nonce;
            u.signature = sig;
        } else {
            vm.prank(owner);
            g = reg.grant(t);
        }
        grantIds.push(g);
        model[g] = Model(notBefore, notAfter, maxRuns, 0, epoch, false);
    }

    function revoke(uint256 i) external {
        if (grantIds.length == 0) return;
        bytes32 g = grantIds[i % grantIds.length];
        if (model[g].revoked) return;
        vm.prank(owner);
        reg.revoke(g);
        model[g].revoked = true;
    }

    /// Rare on purpose (one call in four), like freezing: otherwise every grant is dead quickly.
    function revokeAll(uint256 seed) external {
        if (seed % 4 != 0) return;
        vm.prank(owner);
        reg.revokeAll(datasetId);
        ++epoch;
    }

    function toggleFreeze(uint256 seed) external {
        if (seed % 4 != 0 && !frozen) return;
        vm.prank(owner);
        if (frozen) reg.unfreeze(datasetId);
        else reg.freeze(datasetId);
        frozen = !frozen;
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 2 days));
    }

    function openRun(uint256 i, uint256 callerSeed, bool otherMeasurement) external {
        if (grantIds.length == 0) return;
        bytes32 g = grantIds[i % grantIds.length];
        address caller = callerSeed % 4 == 0 ? address(uint160(callerSeed)) : operator;
        bytes32 m = otherMeasurement ? M2 : M1;
        Model storage s = model[g];
        bool allowedM = m == M1 || reg.isMeasurementAllowed(g, M2);
        bool valid = caller == operator && !frozen && !s.revoked && s.epoch == epoch && block.timestamp >= s.notBefore
            && block.timestamp < s.notAfter && s.runsUsed < s.maxRuns && allowedM;
        vm.prank(caller);
        try reg.openRun(g, m, keccak256("evidence"), enclave) returns (bytes32 runId) {
            if (!valid) ++openedWhenInvalid;
            if (caller != operator) ++openedByNonOperator;
            ++s.runsUsed;
            ++opened;
            runIds.push(runId);
        } catch {
            if (valid) ++refusedWhenValid;
        }
    }

    function closeRun(uint256 j, uint256 pk, bytes32 resultHash) external {
        if (runIds.length == 0) return;
        bytes32 r = runIds[j % runIds.length];
        pk = pk % 3 == 0 ? ENCLAVE_PK : bound(pk, 1, 2 ** 200);
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01", reg.DOMAIN_SEPARATOR(), keccak256(abi.encode(reg.RUN_RESULT_TYPEHASH(), r, resultHash))
            )
        );
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(pk, digest);
        try reg.closeRun(r, resultHash, abi.encodePacked(rr, ss, v)) {
            if (pk != ENCLAVE_PK) ++closedByWrongKey;
            if (closed[r]) ++closedTwice;
            closed[r] = true;
        } catch {}
    }

    function replaySignature(uint256 k) external {
        if (used.length == 0) return;
        UsedSignature storage u = used[k % used.length];
        try reg.grantWithSig(u.terms, u.nonce, u.terms.notAfter, u.signature) {
            ++signatureReused;
        } catch {}
        try reg.grantWithSig(u.terms, u.nonce, block.timestamp, u.signature) {
            ++signatureReused;
        } catch {}
    }

    function signForOtherChainOrContract(bool otherChain, uint64 chainDelta) external {
        bytes32[] memory ms = new bytes32[](1);
        ms[0] = M1;
        CustosRegistry.GrantTerms memory t = CustosRegistry.GrantTerms({
            datasetId: datasetId,
            grantee: address(0xBEEF),
            measurements: ms,
            notBefore: uint64(block.timestamp),
            notAfter: uint64(block.timestamp + 1 days),
            maxRuns: 1,
            purposeHash: bytes32(0),
            legalBasisHash: bytes32(0)
        });
        uint256 nonce = reg.datasetNonce(datasetId);
        uint256 chainId = otherChain ? block.chainid + bound(chainDelta, 1, 1e9) : block.chainid;
        address verifying = otherChain ? address(reg) : address(uint160(address(reg)) ^ uint160(chainDelta | 1));
        bytes memory sig = _sign(_grantDigest(t, nonce, block.timestamp, chainId, verifying));
        try reg.grantWithSig(t, nonce, block.timestamp, sig) {
            ++crossChainAccepted;
        } catch {}
    }

    function _sign(bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_PK, digest);
        return abi.encodePacked(r, s, v);
    }

    function _grantDigest(
        CustosRegistry.GrantTerms memory t,
        uint256 nonce,
        uint256 deadline,
        uint256 chainId,
        address verifying
    ) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Custos"),
                keccak256("1"),
                chainId,
                verifying
            )
        );
        bytes memory head = abi.encode(
            reg.GRANT_TYPEHASH(), t.datasetId, t.grantee, keccak256(abi.encodePacked(t.measurements)), t.notBefore
        );
        bytes memory tail = abi.encode(t.notAfter, t.maxRuns, t.purposeHash, t.legalBasisHash, nonce, deadline);
        return keccak256(abi.encodePacked("\x19\x01", domain, keccak256(bytes.concat(head, tail))));
    }
}

contract InvariantTest is Test {
    CustosRegistry internal reg;
    Handler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        reg = new CustosRegistry();
        address owner = vm.addr(0xA11CE);
        address operator = address(0x0BE7A70);
        vm.prank(owner);
        bytes32 id = reg.registerDataset(bytes16(uint128(1)), hex"01", bytes32(0), bytes32(0));
        vm.prank(owner);
        reg.setOperator(id, operator);
        handler = new Handler(reg, operator, id);
        targetContract(address(handler));
    }

    /// A revoked, stale-epoch, expired, not-yet-valid, exhausted or frozen grant never opens a run,
    /// and a valid one is never refused.
    function invariant_policyMatchesModel() public view {
        assertEq(handler.openedWhenInvalid(), 0, "opened when invalid");
        assertEq(handler.refusedWhenValid(), 0, "refused when valid");
    }

    function invariant_runsNeverExceedMaxRuns() public view {
        uint256 n = handler.grantCount();
        for (uint256 i; i < n; ++i) {
            CustosRegistry.Grant memory g = reg.getGrant(handler.grantIds(i));
            assertLe(g.runsUsed, g.maxRuns);
        }
    }

    function invariant_onlyOperatorOpens() public view {
        assertEq(handler.openedByNonOperator(), 0);
    }

    function invariant_onlyEnclaveKeyClosesOnce() public view {
        assertEq(handler.closedByWrongKey(), 0);
        assertEq(handler.closedTwice(), 0);
    }

    function invariant_signatureUsableOnce() public view {
        assertEq(handler.signatureReused(), 0);
    }

    function invariant_signatureBoundToChainAndContract() public view {
        assertEq(handler.crossChainAccepted(), 0);
    }
}
