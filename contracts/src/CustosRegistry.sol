// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title Custos registry: datasets, grants and the run ledger.
/// @notice A dataset owner registers a dataset (hashes of its ciphertext, never its content), grants
/// an enclave application time-limited, counted access, and revokes one grant or all of them. The
/// owner's key-release service (the dataset's operator) opens a run here, atomically checking the
/// grant, before it releases the dataset key to an attested enclave; the enclave's signature over
/// the result closes the run. Every owner action also exists as `…WithSig`: EIP-712 typed data
/// signed by the owner (an EOA or an ERC-1271 contract such as a Safe), relayed by anyone.
/// Identifiers and message types: docs/eip712.md. Design notes: docs/contracts.md.
contract CustosRegistry is EIP712, Nonces {
    // ---------------------------------------------------------------- storage

    /// One slot for what every owner action reads and writes, one for the operator.
    struct Dataset {
        address owner;
        uint32 epoch; // bumped by revokeAll: grants of an older epoch are dead
        bool frozen; // emergency stop: no run opens
        uint24 grantCount; // number of grants made; grant numbers start at 1
        uint32 nonce; // next nonce of the owner's signed messages about this dataset
        address operator; // the key-release service's hot key: may only open runs
    }

    /// One slot. The dataset is part of the grant id; the grantee, purpose and legal basis are in
    /// the GrantCreated event only: the contract does not need them to decide.
    struct Grant {
        uint32 epoch;
        uint64 notBefore; // inclusive, unix seconds
        uint64 notAfter; // exclusive, unix seconds
        uint32 maxRuns;
        uint32 runsUsed;
        bool revoked;
    }

    struct Run {
        address enclaveKey; // address of the enclave's secp256k1 result key
        bool closed;
    }

    /// What an owner grants. A struct keeps the external functions within the stack limit.
    struct GrantTerms {
        bytes32 datasetId;
        address grantee;
        bytes32[] measurements;
        uint64 notBefore;
        uint64 notAfter;
        uint32 maxRuns;
        bytes32 purposeHash;
        bytes32 legalBasisHash;
    }

    /// A dataset id has its low 8 bytes zero; a grant id is its dataset id plus the grant number
    /// in those bytes, so the dataset of a grant needs no storage.
    bytes32 private constant GRANT_NUMBER_MASK = bytes32(uint256(type(uint64).max));

    mapping(bytes32 datasetId => Dataset) private _datasets;
    mapping(bytes32 grantId => Grant) private _grants;
    mapping(bytes32 grantId => mapping(bytes32 measurement => bool)) private _allowed;
    mapping(bytes32 runId => Run) private _runs;

    // ---------------------------------------------------------------- EIP-712 type hashes

    bytes32 public constant REGISTER_DATASET_TYPEHASH = keccak256(
        "RegisterDataset(address owner,bytes16 containerId,bytes cid,bytes32 ciphertextHash,bytes32 metadataHash,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant GRANT_TYPEHASH = keccak256(
        "Grant(bytes32 datasetId,address grantee,bytes32[] measurements,uint64 notBefore,uint64 notAfter,uint32 maxRuns,bytes32 purposeHash,bytes32 legalBasisHash,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant REVOKE_TYPEHASH = keccak256("Revoke(bytes32 grantId,uint256 nonce,uint256 deadline)");
    bytes32 public constant REVOKE_ALL_TYPEHASH =
        keccak256("RevokeAll(bytes32 datasetId,uint256 nonce,uint256 deadline)");
    bytes32 public constant FREEZE_TYPEHASH = keccak256("Freeze(bytes32 datasetId,uint256 nonce,uint256 deadline)");
    bytes32 public constant UNFREEZE_TYPEHASH = keccak256("Unfreeze(bytes32 datasetId,uint256 nonce,uint256 deadline)");
    bytes32 public constant SET_OPERATOR_TYPEHASH =
        keccak256("SetOperator(bytes32 datasetId,address operator,uint256 nonce,uint256 deadline)");
    bytes32 public constant TRANSFER_OWNERSHIP_TYPEHASH =
        keccak256("TransferOwnership(bytes32 datasetId,address newOwner,uint256 nonce,uint256 deadline)");
    bytes32 public constant RUN_RESULT_TYPEHASH = keccak256("RunResult(bytes32 runId,bytes32 resultHash)");

    // ---------------------------------------------------------------- events (hashes only)

    event DatasetRegistered(
        bytes32 indexed datasetId,
        address indexed owner,
        bytes16 containerId,
        bytes cid,
        bytes32 ciphertextHash,
        bytes32 metadataHash
    );
    event DatasetOwnershipTransferred(
        bytes32 indexed datasetId, address indexed previousOwner, address indexed newOwner
    );
    event OperatorSet(bytes32 indexed datasetId, address indexed previousOperator, address indexed operator);
    event Frozen(bytes32 indexed datasetId);
    event Unfrozen(bytes32 indexed datasetId);
    event AllGrantsRevoked(bytes32 indexed datasetId, uint32 newEpoch);
    event GrantCreated(
        bytes32 indexed grantId,
        bytes32 indexed datasetId,
        address indexed grantee,
        uint32 epoch,
        uint64 notBefore,
        uint64 notAfter,
        uint32 maxRuns,
        bytes32[] measurements,
        bytes32 purposeHash,
        bytes32 legalBasisHash
    );
    event GrantRevoked(bytes32 indexed grantId, bytes32 indexed datasetId);
    event RunOpened(
        bytes32 indexed runId,
        bytes32 indexed grantId,
        bytes32 indexed datasetId,
        uint32 runIndex,
        bytes32 measurement,
        bytes32 evidenceHash,
        address enclaveKey,
        address operator
    );
    event RunClosed(bytes32 indexed runId, bytes32 resultHash, bytes enclaveSignature);

    // ---------------------------------------------------------------- errors

    error DatasetExists(bytes32 datasetId);
    error UnknownDataset(bytes32 datasetId);
    error NotDatasetOwner(bytes32 datasetId, address caller);
    error NotOperator(bytes32 datasetId, address caller);
    error DatasetIsFrozen(bytes32 datasetId);
    error DatasetNotFrozen(bytes32 datasetId);
    error ZeroAddress();
    error EmptyContentId();
    error InvalidWindow(uint64 notBefore, uint64 notAfter);
    error ZeroMaxRuns();
    error NoMeasurements();
    error UnknownGrant(bytes32 grantId);
    error GrantAlreadyRevoked(bytes32 grantId);
    error GrantIsRevoked(bytes32 grantId);
    error GrantEpochRevoked(bytes32 grantId, uint32 grantEpoch, uint32 datasetEpoch);
    error GrantNotYetValid(bytes32 grantId, uint64 notBefore);
    error GrantExpired(bytes32 grantId, uint64 notAfter);
    error GrantExhausted(bytes32 grantId, uint32 maxRuns);
    error MeasurementNotAllowed(bytes32 grantId, bytes32 measurement);
    error UnknownRun(bytes32 runId);
    error RunAlreadyClosed(bytes32 runId);
    error InvalidEnclaveSignature(bytes32 runId);
    error SignatureExpired(uint256 deadline);
    error InvalidDatasetNonce(bytes32 datasetId, uint256 expected);
    error InvalidSignature();

    constructor() EIP712("Custos", "1") {}

    // ---------------------------------------------------------------- datasets

    /// @notice Registers a dataset owned by the caller. `datasetId` is
    /// `keccak256(abi.encode(caller, containerId))` with its low 8 bytes set to zero.
    function registerDataset(bytes16 containerId, bytes calldata cid, bytes32 ciphertextHash, bytes32 metadataHash)
        external
        returns (bytes32 datasetId)
    {
        return _register(msg.sender, containerId, cid, ciphertextHash, metadataHash);
    }

    /// @notice Registers a dataset owned by `owner`, who signed a RegisterDataset message.
    function registerDatasetWithSig(
        address owner,
        bytes16 containerId,
        bytes calldata cid,
        bytes32 ciphertextHash,
        bytes32 metadataHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 datasetId) {
        bytes32 structHash = keccak256(
            abi.encode(
                REGISTER_DATASET_TYPEHASH,
                owner,
                containerId,
                keccak256(cid),
                ciphertextHash,
                metadataHash,
                nonce,
                deadline
            )
        );
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        _useCheckedNonce(owner, nonce);
        _checkSignature(owner, structHash, signature);
        return _register(owner, containerId, cid, ciphertextHash, metadataHash);
    }

    function transferOwnership(bytes32 datasetId, address newOwner) external {
        _onlyOwner(datasetId, msg.sender);
        _transferOwnership(datasetId, newOwner);
    }

    function transferOwnershipWithSig(
        bytes32 datasetId,
        address newOwner,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(TRANSFER_OWNERSHIP_TYPEHASH, datasetId, newOwner, nonce, deadline));
        _useDatasetSignature(datasetId, structHash, nonce, deadline, signature);
        _transferOwnership(datasetId, newOwner);
    }

    /// @notice Sets the dataset's operator (zero: nobody can open runs).
    function setOperator(bytes32 datasetId, address operator) external {
        _onlyOwner(datasetId, msg.sender);
        _setOperator(datasetId, operator);
    }

    function setOperatorWithSig(
        bytes32 datasetId,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(SET_OPERATOR_TYPEHASH, datasetId, operator, nonce, deadline));
        _useDatasetSignature(datasetId, structHash, nonce, deadline, signature);
        _setOperator(datasetId, operator);
    }

    /// @notice Emergency stop: no run of this dataset opens until it is unfrozen.
    function freeze(bytes32 datasetId) external {
        _onlyOwner(datasetId, msg.sender);
        _setFrozen(datasetId, true);
    }

    function freezeWithSig(bytes32 datasetId, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(FREEZE_TYPEHASH, datasetId, nonce, deadline));
        _useDatasetSignature(datasetId, structHash, nonce, deadline, signature);
        _setFrozen(datasetId, true);
    }

    function unfreeze(bytes32 datasetId) external {
        _onlyOwner(datasetId, msg.sender);
        _setFrozen(datasetId, false);
    }

    function unfreezeWithSig(bytes32 datasetId, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(UNFREEZE_TYPEHASH, datasetId, nonce, deadline));
        _useDatasetSignature(datasetId, structHash, nonce, deadline, signature);
        _setFrozen(datasetId, false);
    }

    // ---------------------------------------------------------------- grants

    /// @notice Grants `terms.grantee` up to `maxRuns` runs of the listed enclave measurements in
    /// [notBefore, notAfter). Returns `grantId = datasetId | grantNumber` (1, 2, …).
    function grant(GrantTerms calldata terms) external returns (bytes32 grantId) {
        _onlyOwner(terms.datasetId, msg.sender);
        return _grant(terms);
    }

    function grantWithSig(GrantTerms calldata terms, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
        returns (bytes32 grantId)
    {
        _useDatasetSignature(terms.datasetId, _grantStructHash(terms, nonce, deadline), nonce, deadline, signature);
        return _grant(terms);
    }

    function revoke(bytes32 grantId) external {
        _onlyOwner(_datasetOfGrant(grantId), msg.sender);
        _revoke(grantId);
    }

    function revokeWithSig(bytes32 grantId, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(REVOKE_TYPEHASH, grantId, nonce, deadline));
        _useDatasetSignature(_datasetOfGrant(grantId), structHash, nonce, deadline, signature);
        _revoke(grantId);
    }

    /// @notice Revokes every grant of the dataset in one step by bumping its epoch.
    function revokeAll(bytes32 datasetId) external {
        _onlyOwner(datasetId, msg.sender);
        _revokeAll(datasetId);
    }

    function revokeAllWithSig(bytes32 datasetId, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(REVOKE_ALL_TYPEHASH, datasetId, nonce, deadline));
        _useDatasetSignature(datasetId, structHash, nonce, deadline, signature);
        _revokeAll(datasetId);
    }

    // ---------------------------------------------------------------- runs

    /// @notice Opens a run: only the dataset's operator, only if the grant allows it now. Returns
    /// `runId = keccak256(abi.encode(grantId, runIndex))`.
    /// @param enclaveKey address of the enclave's secp256k1 result key; only it can close the run.
    function openRun(bytes32 grantId, bytes32 measurement, bytes32 evidenceHash, address enclaveKey)
        external
        returns (bytes32 runId)
    {
        Grant storage g = _grants[grantId];
        if (g.notAfter == 0) revert UnknownGrant(grantId);
        bytes32 datasetId = grantId & ~GRANT_NUMBER_MASK;
        Dataset storage d = _datasets[datasetId];
        if (msg.sender != d.operator) revert NotOperator(datasetId, msg.sender);
        if (d.frozen) revert DatasetIsFrozen(datasetId);
        if (g.revoked) revert GrantIsRevoked(grantId);
        if (g.epoch != d.epoch) revert GrantEpochRevoked(grantId, g.epoch, d.epoch);
        if (block.timestamp < g.notBefore) revert GrantNotYetValid(grantId, g.notBefore);
        if (block.timestamp >= g.notAfter) revert GrantExpired(grantId, g.notAfter);
        uint32 runIndex = g.runsUsed;
        if (runIndex >= g.maxRuns) revert GrantExhausted(grantId, g.maxRuns);
        if (!_allowed[grantId][measurement]) revert MeasurementNotAllowed(grantId, measurement);
        if (enclaveKey == address(0)) revert ZeroAddress();

        g.runsUsed = runIndex + 1;
        runId = keccak256(abi.encode(grantId, uint256(runIndex)));
        _runs[runId] = Run({enclaveKey: enclaveKey, closed: false});
        emit RunOpened(runId, grantId, datasetId, runIndex, measurement, evidenceHash, enclaveKey, msg.sender);
    }

    /// @notice Closes a run with the result hash signed by the run's enclave key (EIP-712
    /// `RunResult(runId, resultHash)`, 65-byte ECDSA signature). Anyone may relay it.
    function closeRun(bytes32 runId, bytes32 resultHash, bytes calldata enclaveSignature) external {
        Run storage r = _runs[runId];
        address enclaveKey = r.enclaveKey;
        if (enclaveKey == address(0)) revert UnknownRun(runId);
        if (r.closed) revert RunAlreadyClosed(runId);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(RUN_RESULT_TYPEHASH, runId, resultHash)));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, enclaveSignature);
        if (err != ECDSA.RecoverError.NoError || signer != enclaveKey) revert InvalidEnclaveSignature(runId);
        r.closed = true;
        emit RunClosed(runId, resultHash, enclaveSignature);
    }

    // ---------------------------------------------------------------- views

    function getDataset(bytes32 datasetId) external view returns (Dataset memory) {
        return _datasets[datasetId];
    }

    function getGrant(bytes32 grantId) external view returns (Grant memory) {
        return _grants[grantId];
    }

    /// @notice The dataset a grant id belongs to (its high 24 bytes); reverts for an unknown grant.
    function datasetOfGrant(bytes32 grantId) external view returns (bytes32) {
        return _datasetOfGrant(grantId);
    }

    /// @notice The nonce the next owner message about this dataset must carry (RegisterDataset
    /// uses `nonces(owner)` instead: there is no dataset yet).
    function datasetNonce(bytes32 datasetId) external view returns (uint256) {
        return _datasets[datasetId].nonce;
    }

    function isMeasurementAllowed(bytes32 grantId, bytes32 measurement) external view returns (bool) {
        return _allowed[grantId][measurement];
    }

    function getRun(bytes32 runId) external view returns (Run memory) {
        return _runs[runId];
    }

    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    function _register(
        address owner,
        bytes16 containerId,
        bytes calldata cid,
        bytes32 ciphertextHash,
        bytes32 metadataHash
    ) private returns (bytes32 datasetId) {
        if (cid.length == 0) revert EmptyContentId();
        datasetId = keccak256(abi.encode(owner, containerId)) & ~GRANT_NUMBER_MASK;
        Dataset storage d = _datasets[datasetId];
        if (d.owner != address(0)) revert DatasetExists(datasetId);
        d.owner = owner;
        emit DatasetRegistered(datasetId, owner, containerId, cid, ciphertextHash, metadataHash);
    }

    function _transferOwnership(bytes32 datasetId, address newOwner) private {
        if (newOwner == address(0)) revert ZeroAddress();
        Dataset storage d = _datasets[datasetId];
        address previous = d.owner;
        d.owner = newOwner;
        emit DatasetOwnershipTransferred(datasetId, previous, newOwner);
    }

    function _setOperator(bytes32 datasetId, address operator) private {
        Dataset storage d = _datasets[datasetId];
        address previous = d.operator;
        d.operator = operator;
        emit OperatorSet(datasetId, previous, operator);
    }

    function _setFrozen(bytes32 datasetId, bool frozen) private {
        Dataset storage d = _datasets[datasetId];
        if (frozen) {
            if (d.frozen) revert DatasetIsFrozen(datasetId);
            d.frozen = true;
            emit Frozen(datasetId);
        } else {
            if (!d.frozen) revert DatasetNotFrozen(datasetId);
            d.frozen = false;
            emit Unfrozen(datasetId);
        }
    }

    function _grant(GrantTerms calldata t) private returns (bytes32 grantId) {
        if (t.grantee == address(0)) revert ZeroAddress();
        if (t.notAfter <= t.notBefore || t.notAfter <= block.timestamp) {
            revert InvalidWindow(t.notBefore, t.notAfter);
        }
        if (t.maxRuns == 0) revert ZeroMaxRuns();
        uint256 count = t.measurements.length;
        if (count == 0) revert NoMeasurements();

        Dataset storage d = _datasets[t.datasetId];
        uint24 number = d.grantCount + 1;
        d.grantCount = number;
        uint32 epoch = d.epoch;
        grantId = t.datasetId | bytes32(uint256(number));
        _grants[grantId] = Grant({
            epoch: epoch, notBefore: t.notBefore, notAfter: t.notAfter, maxRuns: t.maxRuns, runsUsed: 0, revoked: false
        });
        mapping(bytes32 => bool) storage allowed = _allowed[grantId];
        for (uint256 i; i < count; ++i) {
            allowed[t.measurements[i]] = true;
        }
        emit GrantCreated(
            grantId,
            t.datasetId,
            t.grantee,
            epoch,
            t.notBefore,
            t.notAfter,
            t.maxRuns,
            t.measurements,
            t.purposeHash,
            t.legalBasisHash
        );
    }

    function _revoke(bytes32 grantId) private {
        Grant storage g = _grants[grantId];
        if (g.revoked) revert GrantAlreadyRevoked(grantId);
        g.revoked = true;
        emit GrantRevoked(grantId, grantId & ~GRANT_NUMBER_MASK);
    }

    function _revokeAll(bytes32 datasetId) private {
        Dataset storage d = _datasets[datasetId];
        uint32 epoch = d.epoch + 1;
        d.epoch = epoch;
        emit AllGrantsRevoked(datasetId, epoch);
    }

    function _grantStructHash(GrantTerms calldata t, uint256 nonce, uint256 deadline) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                GRANT_TYPEHASH,
                t.datasetId,
                t.grantee,
                keccak256(abi.encodePacked(t.measurements)),
                t.notBefore,
                t.notAfter,
                t.maxRuns,
                t.purposeHash,
                t.legalBasisHash,
                nonce,
                deadline
            )
        );
    }

    /// For an owner message about an existing dataset: checks the deadline, consumes the dataset's
    /// nonce (kept in the slot the action writes anyway) and verifies the current owner's signature.
    function _useDatasetSignature(
        bytes32 datasetId,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        Dataset storage d = _datasets[datasetId];
        address owner = d.owner;
        if (owner == address(0)) revert UnknownDataset(datasetId);
        uint32 current = d.nonce;
        if (nonce != current) revert InvalidDatasetNonce(datasetId, current);
        d.nonce = current + 1;
        _checkSignature(owner, structHash, signature);
    }

    /// ECDSA for an EOA signer, ERC-1271 for a contract signer.
    function _checkSignature(address signer, bytes32 structHash, bytes calldata signature) private view {
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature();
        }
    }

    function _ownerOf(bytes32 datasetId) private view returns (address owner) {
        owner = _datasets[datasetId].owner;
        if (owner == address(0)) revert UnknownDataset(datasetId);
    }

    function _onlyOwner(bytes32 datasetId, address caller) private view {
        if (caller != _ownerOf(datasetId)) revert NotDatasetOwner(datasetId, caller);
    }

    function _datasetOfGrant(bytes32 grantId) private view returns (bytes32) {
        if (_grants[grantId].notAfter == 0) revert UnknownGrant(grantId);
        return grantId & ~GRANT_NUMBER_MASK;
    }
}
