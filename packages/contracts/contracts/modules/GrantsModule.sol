// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    GRANT_FLAGS_MASK,
    Grant,
    InvalidExpiry,
    InvalidFlags,
    InvalidGrantee,
    InvalidKindMask,
    InvalidScope,
    KIND_MASK_ALL,
    NoActiveGrant,
    NotRecordPatient,
    RECORD_SUPERSEDED,
    Record,
    RecordNotFound,
    RecordSuperseded,
    Scope
} from "../PcmimsTypes.sol";
import {PcmimsStorage} from "./PcmimsStorage.sol";

/// Grants are written by the patient only; there is no admin override.
abstract contract GrantsModule is PcmimsStorage {
    /// Creates or replaces the caller's grant to `grantee`. Each call starts a new epoch, so the record set of a
    /// previous Records-scope grant stops counting. `keyBundle` (digest of the key bundle's CID) is only logged.
    ///
    /// The caller's participant status is deliberately not checked (nor in `revoke`). Patient sovereignty: a unit
    /// suspending a patient must not take away the patient's control over their own data. And a grant written by
    /// an address that is not a patient is inert: a grant only applies to records whose patient is the grantor,
    /// and a record can only be anchored for an Approved patient (rotation keeps the patient).
    function grant(
        address grantee,
        Scope scope,
        uint16 kindMask,
        bytes32[] calldata recordIds,
        uint40 expiresAt,
        uint8 flags,
        bytes32 keyBundle
    ) external {
        if ((scope == Scope.Records) != (recordIds.length != 0)) revert InvalidScope(scope);
        uint32 epoch = _setGrant(msg.sender, grantee, scope, kindMask, expiresAt, flags, keyBundle);
        if (scope == Scope.Records) _grantRecords(grantee, recordIds, epoch);
    }

    /// Ends an active grant. The epoch stays, so a later grant starts a fresh record set.
    function revoke(address grantee) external {
        Grant storage g = _grants[msg.sender][grantee];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(g.slot)
        }
        if ((word >> G_SCOPE) & 0xff == uint8(Scope.None) || word & MASK_40 <= block.timestamp) {
            revert NoActiveGrant(msg.sender, grantee);
        }
        uint256 epochOnly = word & (0xffffffff << G_EPOCH);
        assembly ("memory-safe") {
            sstore(g.slot, epochOnly)
        }
        emit GrantRevoked(msg.sender, grantee, uint32(epochOnly >> G_EPOCH));
    }

    function grantOf(address patient, address grantee) external view returns (Grant memory) {
        return _grants[patient][grantee];
    }

    /// Lists the caller's own, current records for `grantee` under `epoch`.
    function _grantRecords(address grantee, bytes32[] calldata recordIds, uint32 epoch) private {
        for (uint256 i; i < recordIds.length; ++i) {
            bytes32 id = recordIds[i];
            Record storage r = _records[id];
            uint256 word;
            assembly ("memory-safe") {
                word := sload(r.slot)
            }
            address patient = address(uint160(word));
            if (patient != msg.sender) {
                if (patient == address(0)) revert RecordNotFound(id);
                revert NotRecordPatient(id, msg.sender);
            }
            if ((word >> R_FLAGS) & RECORD_SUPERSEDED != 0) revert RecordSuperseded(id);
            _recordGrants[_recordGrantKey(msg.sender, grantee, id)] = epoch;
        }
        emit GrantRecords(msg.sender, grantee, epoch, recordIds);
    }

    /// Validates and stores the grant terms and emits `GrantSet` with the stored word as its `terms`.
    function _setGrant(
        address patient,
        address grantee,
        Scope scope,
        uint16 kindMask,
        uint40 expiresAt,
        uint8 flags,
        bytes32 keyBundle
    ) internal returns (uint32 epoch) {
        if (grantee == address(0) || grantee == patient) revert InvalidGrantee(grantee);
        if (expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
        if (flags & ~GRANT_FLAGS_MASK != 0) revert InvalidFlags(flags);
        _validateScope(scope, kindMask);
        Grant storage g = _grants[patient][grantee];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(g.slot)
        }
        // Checked uint32 arithmetic: a wrapped epoch of 0 would match every never-listed record.
        epoch = uint32(word >> G_EPOCH) + 1;
        word = uint256(expiresAt) | (uint256(kindMask) << G_KIND_MASK) | (uint256(uint8(scope)) << G_SCOPE)
            | (uint256(flags) << G_FLAGS) | (uint256(epoch) << G_EPOCH);
        assembly ("memory-safe") {
            sstore(g.slot, word)
        }
        emit GrantSet(patient, grantee, word, keyBundle);
    }

    /// Kinds needs a non-zero mask of known kinds; other scopes carry no mask, so stored terms stay canonical.
    function _validateScope(Scope scope, uint16 kindMask) internal pure {
        if (scope == Scope.None) revert InvalidScope(scope);
        if (scope == Scope.Kinds) {
            if (kindMask == 0 || kindMask & ~KIND_MASK_ALL != 0) revert InvalidKindMask(kindMask);
        } else if (kindMask != 0) {
            revert InvalidKindMask(kindMask);
        }
    }
}
