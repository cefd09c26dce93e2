// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CustosRegistry} from "../src/CustosRegistry.sol";
import {Base} from "./Base.sol";

/// One operation per test, everything else in setUp, so `.gas-snapshot` (checked in CI with
/// `forge snapshot --check`) follows each operation's execution gas. Transaction gas (with the
/// 21k base and calldata) against the goals is reported by bench/gas.bench.ts on anvil.
contract GasTest is Base {
    bytes32 internal id;
    bytes32 internal g;
    bytes32 internal run;
    CustosRegistry.GrantTerms internal terms;
    bytes internal grantSig;
    bytes internal resultSig;

    function setUp() public override {
        super.setUp();
        id = _registerWithOperator();
        g = _grant(id);
        run = _open(g);
        resultSig = _resultSig(ENCLAVE_PK, run, RESULT);
        terms = _terms(id);
        grantSig = _sign(OWNER_PK, _grantHash(terms, 0, T0 + 1));
    }

    function test_gas_registerDataset() public {
        vm.prank(stranger);
        reg.registerDataset(CONTAINER, CID, CIPHERTEXT_HASH, METADATA_HASH);
    }

    function test_gas_grant() public {
        vm.prank(owner);
        reg.grant(terms);
    }

    function test_gas_grantWithSig() public {
        reg.grantWithSig(terms, 0, T0 + 1, grantSig);
    }

    function test_gas_revoke() public {
        vm.prank(owner);
        reg.revoke(g);
    }

    function test_gas_revokeAll() public {
        vm.prank(owner);
        reg.revokeAll(id);
    }

    function test_gas_openRun() public {
        vm.prank(operator);
        reg.openRun(g, M1, EVIDENCE, enclave);
    }

    function test_gas_closeRun() public {
        reg.closeRun(run, RESULT, resultSig);
    }
}
