// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {CustosRegistry} from "../src/CustosRegistry.sol";
import {Base, OneKeyWallet} from "./Base.sol";

contract DatasetTest is Base {
    function test_register_setsOwnerAndDerivesId() public {
        bytes32 expected = keccak256(abi.encode(owner, CONTAINER)) & ~bytes32(uint256(type(uint64).max));
        vm.expectEmit(address(reg));
        emit CustosRegistry.DatasetRegistered(expected, owner, CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH);
        bytes32 id = _register();
        assertEq(id, expected);
        assertEq(uint64(uint256(id)), 0);
        CustosRegistry.Dataset memory d = reg.getDataset(id);
        assertEq(d.owner, owner);
        assertEq(d.epoch, 0);
        assertFalse(d.frozen);
        assertEq(d.operator, address(0));
    }

    function test_register_twiceReverts() public {
        bytes32 id = _register();
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.DatasetExists.selector, id));
        _register();
    }

    function test_register_sameContainerByAnotherAccountIsAnotherDataset() public {
        bytes32 mine = _register();
        vm.prank(stranger);
        bytes32 theirs = reg.registerDataset(CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH);
        assertTrue(mine != theirs);
        assertEq(reg.getDataset(mine).owner, owner);
    }

    function test_register_emptyCidReverts() public {
        vm.expectRevert(CustosRegistry.EmptyContentId.selector);
        reg.registerDataset(CONTAINER, "", CIPHERTEXT_HASH, METADATA_HASH);
    }

    function test_registerWithSig_relayedByAnyone() public {
        uint256 deadline = T0 + 1 hours;
        bytes memory sig = _sign(OWNER_PK, _registerHash(owner, 0, deadline));
        vm.prank(relayer);
        bytes32 id = reg.registerDatasetWithSig(owner, CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH, 0, deadline, sig);
        assertEq(reg.getDataset(id).owner, owner);
        assertEq(reg.nonces(owner), 1);
    }

    function test_registerWithSig_expiredDeadlineReverts() public {
        uint256 deadline = T0 - 1;
        bytes memory sig = _sign(OWNER_PK, _registerHash(owner, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.SignatureExpired.selector, deadline));
        reg.registerDatasetWithSig(owner, CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH, 0, deadline, sig);
    }

    function test_registerWithSig_deadlineIsInclusive() public {
        bytes memory sig = _sign(OWNER_PK, _registerHash(owner, 0, T0));
        reg.registerDatasetWithSig(owner, CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH, 0, T0, sig);
    }

    function test_registerWithSig_signedByNonOwnerReverts() public {
        bytes memory sig = _sign(STRANGER_PK, _registerHash(owner, 0, T0 + 1));
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.registerDatasetWithSig(owner, CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH, 0, T0 + 1, sig);
    }

    function test_registerWithSig_wrongNonceReverts() public {
        bytes memory sig = _sign(OWNER_PK, _registerHash(owner, 1, T0 + 1));
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, owner, 0));
        reg.registerDatasetWithSig(owner, CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH, 1, T0 + 1, sig);
    }

    function test_registerWithSig_tamperedFieldReverts() public {
        bytes memory sig = _sign(OWNER_PK, _registerHash(owner, 0, T0 + 1));
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.registerDatasetWithSig(owner, CONTAINER, CID, keccak256("other"), METADATA_HASH, 0, T0 + 1, sig);
    }

    function test_registerWithSig_erc1271Owner() public {
        OneKeyWallet wallet = new OneKeyWallet(owner);
        bytes memory sig = _sign(OWNER_PK, _registerHash(address(wallet), 0, T0 + 1));
        bytes32 id =
            reg.registerDatasetWithSig(address(wallet), CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH, 0, T0 + 1, sig);
        assertEq(reg.getDataset(id).owner, address(wallet));

        bytes memory bad = _sign(STRANGER_PK, _idAddrHash(reg.SET_OPERATOR_TYPEHASH(), id, operator, 0, T0 + 1));
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.setOperatorWithSig(id, operator, 0, T0 + 1, bad);

        bytes memory good = _sign(OWNER_PK, _idAddrHash(reg.SET_OPERATOR_TYPEHASH(), id, operator, 0, T0 + 1));
        reg.setOperatorWithSig(id, operator, 0, T0 + 1, good);
        assertEq(reg.getDataset(id).operator, operator);
    }

    function test_erc1271Owner_actsDirectly() public {
        OneKeyWallet wallet = new OneKeyWallet(owner);
        vm.prank(owner);
        bytes memory ret = wallet.execute(
            address(reg), abi.encodeCall(reg.registerDataset, (CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH))
        );
        bytes32 id = abi.decode(ret, (bytes32));
        vm.prank(owner);
        wallet.execute(address(reg), abi.encodeCall(reg.freeze, (id)));
        assertTrue(reg.getDataset(id).frozen);
    }

    function test_transferOwnership() public {
        bytes32 id = _register();
        vm.expectEmit(address(reg));
        emit CustosRegistry.DatasetOwnershipTransferred(id, owner, stranger);
        vm.prank(owner);
        reg.transferOwnership(id, stranger);
        assertEq(reg.getDataset(id).owner, stranger);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotDatasetOwner.selector, id, owner));
        reg.freeze(id);
    }

    function test_transferOwnership_byNonOwnerReverts() public {
        bytes32 id = _register();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotDatasetOwner.selector, id, stranger));
        reg.transferOwnership(id, stranger);
    }

    function test_transferOwnership_toZeroReverts() public {
        bytes32 id = _register();
        vm.prank(owner);
        vm.expectRevert(CustosRegistry.ZeroAddress.selector);
        reg.transferOwnership(id, address(0));
    }

    function test_transferOwnership_unknownDatasetReverts() public {
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.UnknownDataset.selector, bytes32(uint256(1))));
        reg.transferOwnership(bytes32(uint256(1)), stranger);
    }

    function test_transferOwnershipWithSig() public {
        bytes32 id = _register();
        bytes memory sig = _sign(OWNER_PK, _idAddrHash(reg.TRANSFER_OWNERSHIP_TYPEHASH(), id, stranger, 0, T0 + 1));
        vm.prank(relayer);
        reg.transferOwnershipWithSig(id, stranger, 0, T0 + 1, sig);
        assertEq(reg.getDataset(id).owner, stranger);
        // the previous owner's signatures no longer count
        bytes memory old = _sign(OWNER_PK, _idHash(reg.FREEZE_TYPEHASH(), id, 1, T0 + 1));
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.freezeWithSig(id, 1, T0 + 1, old);
        reg.freezeWithSig(id, 1, T0 + 1, _sign(STRANGER_PK, _idHash(reg.FREEZE_TYPEHASH(), id, 1, T0 + 1)));
        assertTrue(reg.getDataset(id).frozen);
    }

    function test_setOperator() public {
        bytes32 id = _register();
        vm.expectEmit(address(reg));
        emit CustosRegistry.OperatorSet(id, address(0), operator);
        vm.prank(owner);
        reg.setOperator(id, operator);
        assertEq(reg.getDataset(id).operator, operator);
    }

    function test_setOperator_byNonOwnerReverts() public {
        bytes32 id = _register();
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotDatasetOwner.selector, id, operator));
        reg.setOperator(id, operator);
    }

    function test_freezeAndUnfreeze() public {
        bytes32 id = _registerWithOperator();
        bytes32 g = _grant(id);
        vm.expectEmit(address(reg));
        emit CustosRegistry.Frozen(id);
        vm.prank(owner);
        reg.freeze(id);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.DatasetIsFrozen.selector, id));
        reg.openRun(g, M1, EVIDENCE, enclave);

        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.DatasetIsFrozen.selector, id));
        reg.freeze(id);

        vm.expectEmit(address(reg));
        emit CustosRegistry.Unfrozen(id);
        vm.prank(owner);
        reg.unfreeze(id);
        _open(g);
    }

    function test_unfreeze_whenNotFrozenReverts() public {
        bytes32 id = _register();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.DatasetNotFrozen.selector, id));
        reg.unfreeze(id);
    }

    function test_freezeWithSig_and_unfreezeWithSig() public {
        bytes32 id = _register();
        reg.freezeWithSig(id, 0, T0 + 1, _sign(OWNER_PK, _idHash(reg.FREEZE_TYPEHASH(), id, 0, T0 + 1)));
        assertTrue(reg.getDataset(id).frozen);
        // a Freeze signature cannot be used as an Unfreeze
        bytes memory freezeSig = _sign(OWNER_PK, _idHash(reg.FREEZE_TYPEHASH(), id, 1, T0 + 1));
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.unfreezeWithSig(id, 1, T0 + 1, freezeSig);
        reg.unfreezeWithSig(id, 1, T0 + 1, _sign(OWNER_PK, _idHash(reg.UNFREEZE_TYPEHASH(), id, 1, T0 + 1)));
        assertFalse(reg.getDataset(id).frozen);
    }
}

contract GrantTest is Base {
    bytes32 internal id;

    function setUp() public override {
        super.setUp();
        id = _registerWithOperator();
    }

    function test_grant_storesTermsAndEmits() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes32 expected = bytes32(uint256(id) | 1);
        vm.expectEmit(address(reg));
        emit CustosRegistry.GrantCreated(
            expected, id, t.grantee, 0, t.notBefore, t.notAfter, t.maxRuns, t.measurements, PURPOSE, LEGAL
        );
        bytes32 g = _grant(id);
        assertEq(g, expected);
        CustosRegistry.Grant memory s = reg.getGrant(g);
        assertEq(reg.datasetOfGrant(g), id);
        assertEq(s.epoch, 0);
        assertEq(s.notBefore, t.notBefore);
        assertEq(s.notAfter, t.notAfter);
        assertEq(s.maxRuns, 3);
        assertEq(s.runsUsed, 0);
        assertFalse(s.revoked);
        assertTrue(reg.isMeasurementAllowed(g, M1));
        assertFalse(reg.isMeasurementAllowed(g, M2));
        assertEq(_grant(id), bytes32(uint256(id) | 2));
    }

    function test_grant_byNonOwnerReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotDatasetOwner.selector, id, operator));
        reg.grant(t);
    }

    function test_grant_unknownDatasetReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(keccak256("nope"));
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.UnknownDataset.selector, keccak256("nope")));
        reg.grant(t);
    }

    function test_grant_zeroGranteeReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.grantee = address(0);
        vm.prank(owner);
        vm.expectRevert(CustosRegistry.ZeroAddress.selector);
        reg.grant(t);
    }

    function test_grant_notAfterNotAfterNotBeforeReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.notAfter = t.notBefore;
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidWindow.selector, t.notBefore, t.notAfter));
        reg.grant(t);
    }

    function test_grant_windowAlreadyOverReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.notBefore = T0 - 100;
        t.notAfter = T0;
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidWindow.selector, t.notBefore, t.notAfter));
        reg.grant(t);
    }

    function test_grant_zeroMaxRunsReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.maxRuns = 0;
        vm.prank(owner);
        vm.expectRevert(CustosRegistry.ZeroMaxRuns.selector);
        reg.grant(t);
    }

    function test_grant_noMeasurementsReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.measurements = new bytes32[](0);
        vm.prank(owner);
        vm.expectRevert(CustosRegistry.NoMeasurements.selector);
        reg.grant(t);
    }

    function test_grantWithSig_relayed() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OWNER_PK, _grantHash(t, 0, T0 + 1));
        vm.prank(relayer);
        bytes32 g = reg.grantWithSig(t, 0, T0 + 1, sig);
        assertEq(reg.datasetOfGrant(g), id);
        assertEq(reg.getGrant(g).maxRuns, t.maxRuns);
        assertEq(reg.datasetNonce(id), 1);
        assertEq(reg.nonces(owner), 0); // account nonces are for RegisterDataset only
    }

    function test_grantWithSig_reusedSignatureReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OWNER_PK, _grantHash(t, 0, T0 + 1));
        reg.grantWithSig(t, 0, T0 + 1, sig);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidDatasetNonce.selector, id, 1));
        reg.grantWithSig(t, 0, T0 + 1, sig);
    }

    function test_grantWithSig_futureNonceReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OWNER_PK, _grantHash(t, 5, T0 + 1));
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidDatasetNonce.selector, id, 0));
        reg.grantWithSig(t, 5, T0 + 1, sig);
    }

    function test_datasetNonces_areIndependent() public {
        vm.prank(owner);
        bytes32 other = reg.registerDataset(bytes16(uint128(42)), CID, CIPHERTEXT_HASH, METADATA_HASH);
        reg.freezeWithSig(other, 0, T0 + 1, _sign(OWNER_PK, _idHash(reg.FREEZE_TYPEHASH(), other, 0, T0 + 1)));
        reg.freezeWithSig(id, 0, T0 + 1, _sign(OWNER_PK, _idHash(reg.FREEZE_TYPEHASH(), id, 0, T0 + 1)));
        assertEq(reg.datasetNonce(other), 1);
        assertEq(reg.datasetNonce(id), 1);
    }

    function test_grantWithSig_expiredReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OWNER_PK, _grantHash(t, 0, T0 + 1));
        vm.warp(T0 + 2);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.SignatureExpired.selector, T0 + 1));
        reg.grantWithSig(t, 0, T0 + 1, sig);
    }

    function test_grantWithSig_nonOwnerSignerReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OPERATOR_PK, _grantHash(t, 0, T0 + 1));
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.grantWithSig(t, 0, T0 + 1, sig);
    }

    function test_grantWithSig_tamperedTermsReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OWNER_PK, _grantHash(t, 0, T0 + 1));
        t.maxRuns = 1000;
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.grantWithSig(t, 0, T0 + 1, sig);
        t.maxRuns = 3;
        t.measurements[0] = M2;
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.grantWithSig(t, 0, T0 + 1, sig);
    }

    function test_grantWithSig_wrongChainReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OWNER_PK, _grantHash(t, 0, T0 + 1)); // signed for this chain
        vm.chainId(block.chainid + 1);
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.grantWithSig(t, 0, T0 + 1, sig);
    }

    function test_grantWithSig_otherContractReverts() public {
        CustosRegistry other = new CustosRegistry();
        vm.prank(owner);
        other.registerDataset(CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH); // same id there
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(OWNER_PK, _grantHash(t, 0, T0 + 1)); // signed for `reg`
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        other.grantWithSig(t, 0, T0 + 1, sig);
    }

    function test_grantWithSig_malformedSignatureReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.grantWithSig(t, 0, T0 + 1, hex"deadbeef");
    }

    function test_revoke() public {
        bytes32 g = _grant(id);
        vm.expectEmit(address(reg));
        emit CustosRegistry.GrantRevoked(g, id);
        vm.prank(owner);
        reg.revoke(g);
        assertTrue(reg.getGrant(g).revoked);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantIsRevoked.selector, g));
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function test_revoke_twiceReverts() public {
        bytes32 g = _grant(id);
        vm.startPrank(owner);
        reg.revoke(g);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantAlreadyRevoked.selector, g));
        reg.revoke(g);
        vm.stopPrank();
    }

    function test_datasetOfGrant_unknownGrantReverts() public {
        bytes32 unknown = bytes32(uint256(id) | 99);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.UnknownGrant.selector, unknown));
        reg.datasetOfGrant(unknown);
    }

    function test_revoke_unknownGrantReverts() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.UnknownGrant.selector, bytes32(uint256(7))));
        reg.revoke(bytes32(uint256(7)));
    }

    function test_revoke_byNonOwnerReverts() public {
        bytes32 g = _grant(id);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotDatasetOwner.selector, id, operator));
        reg.revoke(g);
    }

    function test_revokeWithSig() public {
        bytes32 g = _grant(id);
        vm.prank(relayer);
        reg.revokeWithSig(g, 0, T0 + 1, _sign(OWNER_PK, _idHash(reg.REVOKE_TYPEHASH(), g, 0, T0 + 1)));
        assertTrue(reg.getGrant(g).revoked);
    }

    function test_revokeWithSig_unknownGrantReverts() public {
        bytes32 g = bytes32(uint256(9));
        bytes memory sig = _sign(OWNER_PK, _idHash(reg.REVOKE_TYPEHASH(), g, 0, T0 + 1));
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.UnknownGrant.selector, g));
        reg.revokeWithSig(g, 0, T0 + 1, sig);
    }

    function test_revokeAll_killsOlderGrantsOnly() public {
        bytes32 g1 = _grant(id);
        vm.expectEmit(address(reg));
        emit CustosRegistry.AllGrantsRevoked(id, 1);
        vm.prank(owner);
        reg.revokeAll(id);
        assertEq(reg.getDataset(id).epoch, 1);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantEpochRevoked.selector, g1, 0, 1));
        reg.openRun(g1, M1, EVIDENCE, enclave);
        bytes32 g2 = _grant(id);
        _open(g2);
    }

    function test_revokeAll_byNonOwnerReverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotDatasetOwner.selector, id, stranger));
        reg.revokeAll(id);
    }

    function test_revokeAllWithSig() public {
        reg.revokeAllWithSig(id, 0, T0 + 1, _sign(OWNER_PK, _idHash(reg.REVOKE_ALL_TYPEHASH(), id, 0, T0 + 1)));
        assertEq(reg.getDataset(id).epoch, 1);
    }
}

contract RunTest is Base {
    bytes32 internal id;
    bytes32 internal g;

    function setUp() public override {
        super.setUp();
        id = _registerWithOperator();
        g = _grant(id);
    }

    function test_openRun_countsAndEmits() public {
        bytes32 expected = keccak256(abi.encode(g, uint256(0)));
        vm.expectEmit(address(reg));
        emit CustosRegistry.RunOpened(expected, g, id, 0, M1, EVIDENCE, enclave, operator);
        bytes32 r = _open(g);
        assertEq(r, expected);
        assertEq(reg.getGrant(g).runsUsed, 1);
        CustosRegistry.Run memory run = reg.getRun(r);
        assertEq(run.enclaveKey, enclave);
        assertFalse(run.closed);
        assertEq(_open(g), keccak256(abi.encode(g, uint256(1))));
    }

    function test_openRun_unknownGrantReverts() public {
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.UnknownGrant.selector, bytes32(0)));
        reg.openRun(bytes32(0), M1, EVIDENCE, enclave);
    }

    function test_openRun_onlyOperator() public {
        vm.prank(owner); // not even the owner
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotOperator.selector, id, owner));
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function test_openRun_beforeWindowReverts() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.notBefore = T0 + 1 days;
        vm.prank(owner);
        bytes32 later = reg.grant(t);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantNotYetValid.selector, later, T0 + 1 days));
        reg.openRun(later, M1, EVIDENCE, enclave);
        vm.warp(T0 + 1 days);
        _open(later);
    }

    function test_openRun_atNotAfterReverts() public {
        vm.warp(T0 + 30 days - 1);
        _open(g);
        vm.warp(T0 + 30 days);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantExpired.selector, g, T0 + 30 days));
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function test_openRun_exhaustedReverts() public {
        _open(g);
        _open(g);
        _open(g);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantExhausted.selector, g, 3));
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function test_openRun_measurementNotAllowedReverts() public {
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.MeasurementNotAllowed.selector, g, M2));
        reg.openRun(g, M2, EVIDENCE, enclave);
    }

    function test_openRun_anyListedMeasurement() public {
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.measurements = new bytes32[](2);
        t.measurements[0] = M1;
        t.measurements[1] = M2;
        vm.prank(owner);
        bytes32 both = reg.grant(t);
        vm.prank(operator);
        reg.openRun(both, M2, EVIDENCE, enclave);
    }

    function test_openRun_zeroEnclaveKeyReverts() public {
        vm.prank(operator);
        vm.expectRevert(CustosRegistry.ZeroAddress.selector);
        reg.openRun(g, M1, EVIDENCE, address(0));
    }

    function test_openRun_noOperatorSetMeansNobody() public {
        vm.prank(owner);
        reg.setOperator(id, address(0));
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotOperator.selector, id, address(this)));
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function test_closeRun_withEnclaveSignature() public {
        bytes32 r = _open(g);
        bytes memory sig = _resultSig(ENCLAVE_PK, r, RESULT);
        vm.expectEmit(address(reg));
        emit CustosRegistry.RunClosed(r, RESULT, sig);
        vm.prank(relayer);
        reg.closeRun(r, RESULT, sig);
        assertTrue(reg.getRun(r).closed);
    }

    function test_closeRun_twiceReverts() public {
        bytes32 r = _open(g);
        bytes memory sig = _resultSig(ENCLAVE_PK, r, RESULT);
        reg.closeRun(r, RESULT, sig);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.RunAlreadyClosed.selector, r));
        reg.closeRun(r, RESULT, sig);
    }

    function test_closeRun_unknownRunReverts() public {
        bytes32 r = keccak256("no run");
        bytes memory sig = _resultSig(ENCLAVE_PK, r, RESULT);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.UnknownRun.selector, r));
        reg.closeRun(r, RESULT, sig);
    }

    function test_closeRun_otherKeyReverts() public {
        bytes32 r = _open(g);
        bytes memory sig = _resultSig(OPERATOR_PK, r, RESULT);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidEnclaveSignature.selector, r));
        reg.closeRun(r, RESULT, sig);
    }

    function test_closeRun_otherResultReverts() public {
        bytes32 r = _open(g);
        bytes memory sig = _resultSig(ENCLAVE_PK, r, RESULT);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidEnclaveSignature.selector, r));
        reg.closeRun(r, keccak256("forged"), sig);
    }

    function test_closeRun_malformedSignatureReverts() public {
        bytes32 r = _open(g);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidEnclaveSignature.selector, r));
        reg.closeRun(r, RESULT, hex"0102");
    }

    function test_closeRun_signatureForOtherChainReverts() public {
        bytes32 r = _open(g);
        bytes memory sig = _resultSig(ENCLAVE_PK, r, RESULT);
        vm.chainId(block.chainid + 1);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidEnclaveSignature.selector, r));
        reg.closeRun(r, RESULT, sig);
    }

    function test_closeRun_highSSignatureReverts() public {
        bytes32 r = _open(g);
        bytes memory sig = _resultSig(ENCLAVE_PK, r, RESULT);
        // the malleable twin (n - s, flipped v) recovers the same key; ECDSA rejects it
        bytes32 s;
        uint8 v;
        assembly {
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 r0;
        assembly {
            r0 := mload(add(sig, 32))
        }
        bytes memory twin = abi.encodePacked(r0, bytes32(n - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidEnclaveSignature.selector, r));
        reg.closeRun(r, RESULT, twin);
    }
}

/// Fuzz: the decisions hold for arbitrary inputs, not only the fixtures.
contract FuzzTest is Base {
    bytes32 internal id;

    function setUp() public override {
        super.setUp();
        id = _registerWithOperator();
    }

    function testFuzz_openRunOnlyInsideWindow(uint64 notBefore, uint64 span, uint64 at) public {
        notBefore = uint64(bound(notBefore, 0, type(uint64).max / 4));
        span = uint64(bound(span, 1, type(uint64).max / 4));
        uint64 notAfter = notBefore + span;
        vm.assume(notAfter > T0);
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.notBefore = notBefore;
        t.notAfter = notAfter;
        vm.prank(owner);
        bytes32 g = reg.grant(t);
        at = uint64(bound(at, 0, type(uint64).max / 2));
        vm.warp(at);
        vm.prank(operator);
        if (at < notBefore) {
            vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantNotYetValid.selector, g, notBefore));
        } else if (at >= notAfter) {
            vm.expectRevert(abi.encodeWithSelector(CustosRegistry.GrantExpired.selector, g, notAfter));
        }
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function testFuzz_runsNeverExceedMaxRuns(uint8 maxRuns, uint8 attempts) public {
        maxRuns = uint8(bound(maxRuns, 1, 40));
        attempts = uint8(bound(attempts, 0, 50));
        CustosRegistry.GrantTerms memory t = _terms(id);
        t.maxRuns = maxRuns;
        vm.prank(owner);
        bytes32 g = reg.grant(t);
        uint256 opened;
        for (uint256 i; i < attempts; ++i) {
            vm.prank(operator);
            try reg.openRun(g, M1, EVIDENCE, enclave) {
                ++opened;
            } catch {}
        }
        assertEq(opened, attempts < maxRuns ? attempts : maxRuns);
        assertEq(reg.getGrant(g).runsUsed, opened);
    }

    function testFuzz_onlyOwnerSignatureGrants(uint256 pk) public {
        pk = bound(pk, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(pk != OWNER_PK);
        CustosRegistry.GrantTerms memory t = _terms(id);
        bytes memory sig = _sign(pk, _grantHash(t, 0, T0 + 1));
        vm.expectRevert(CustosRegistry.InvalidSignature.selector);
        reg.grantWithSig(t, 0, T0 + 1, sig);
    }

    function testFuzz_onlyOperatorOpens(address caller) public {
        vm.assume(caller != operator);
        vm.prank(owner);
        bytes32 g = reg.grant(_terms(id));
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(CustosRegistry.NotOperator.selector, id, caller));
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function testFuzz_onlyEnclaveKeyCloses(uint256 pk, bytes32 resultHash) public {
        pk = bound(pk, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.prank(owner);
        bytes32 g = reg.grant(_terms(id));
        bytes32 r = _open(g);
        bytes memory sig = _resultSig(pk, r, resultHash);
        if (pk != ENCLAVE_PK) {
            vm.expectRevert(abi.encodeWithSelector(CustosRegistry.InvalidEnclaveSignature.selector, r));
        }
        reg.closeRun(r, resultHash, sig);
    }

    function testFuzz_measurementMustBeListed(bytes32 m) public {
        vm.prank(owner);
        bytes32 g = reg.grant(_terms(id));
        vm.prank(operator);
        if (m != M1) vm.expectRevert(abi.encodeWithSelector(CustosRegistry.MeasurementNotAllowed.selector, g, m));
        reg.openRun(g, m, EVIDENCE, enclave);
    }
}
