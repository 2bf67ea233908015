// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AuditSizeNotIncreasing, Role, ZeroAuditRoot} from "../PcmimsTypes.sol";
import {PcmimsStorage} from "./PcmimsStorage.sol";

/// Each health unit's node keeps an append-only, hash-chained audit log and anchors its RFC 9162 Merkle root
/// here, so that a patient can check the entries about them against a root the node cannot change afterwards.
/// The chain only enforces that the anchored size grows; consistency between two anchored roots is checked off
/// chain with a consistency proof.
abstract contract AuditModule is PcmimsStorage {
    /// Root of the unit's log when it held `size` entries (zero: never anchored at that size).
    mapping(address unit => mapping(uint64 size => bytes32)) private _auditRoots;
    /// Size of the unit's latest anchor: one slot per unit, so the append-only check costs one SLOAD.
    mapping(address unit => uint64) private _latestAuditSize;

    /// By an Approved unit, for its own log. `size` (the number of entries the root covers) must be greater
    /// than the unit's previous anchored size.
    function anchorAuditRoot(uint64 size, bytes32 root) external {
        _requireApproved(msg.sender, Role.Unit);
        if (root == bytes32(0)) revert ZeroAuditRoot();
        uint64 latest = _latestAuditSize[msg.sender];
        if (size <= latest) revert AuditSizeNotIncreasing(msg.sender, size, latest);
        _auditRoots[msg.sender][size] = root;
        _latestAuditSize[msg.sender] = size;
        emit AuditRootAnchored(msg.sender, size, root);
    }

    function auditRoot(address unit, uint64 size) external view returns (bytes32) {
        return _auditRoots[unit][size];
    }

    function latestAuditSize(address unit) external view returns (uint64) {
        return _latestAuditSize[unit];
    }
}
