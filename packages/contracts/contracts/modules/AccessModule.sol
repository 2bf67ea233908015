// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    BASIS_CUSTODIAN,
    BASIS_EMERGENCY,
    BASIS_GRANT,
    BASIS_NONE,
    BASIS_PATIENT,
    Emergency,
    GRANT_DEIDENTIFIED_ONLY,
    GRANT_DOWNLOAD,
    Grant,
    Participant,
    RECORD_DEIDENTIFIED,
    RECORD_SUPERSEDED,
    Record,
    Role,
    Scope,
    Status
} from "../PcmimsTypes.sol";
import {PcmimsStorage} from "./PcmimsStorage.sol";

/// The single on-chain answer every reader checks before serving or releasing a key.
abstract contract AccessModule is PcmimsStorage {
    function canAccess(address grantee, bytes32 recordId) external view returns (bool allowed) {
        (allowed,,,,) = _access(grantee, recordId);
    }

    function canAccessBatch(address grantee, bytes32[] calldata recordIds) external view returns (bool[] memory result) {
        result = new bool[](recordIds.length);
        for (uint256 i; i < recordIds.length; ++i) {
            (result[i],,,,) = _access(grantee, recordIds[i]);
        }
    }

    /// `basis`: 0 none, 1 patient, 2 custodian unit, 3 grant, 4 emergency. `until` is when that basis lapses.
    function accessOf(address grantee, bytes32 recordId)
        external
        view
        returns (bool allowed, bool download, bool deidentifiedOnly, uint40 until, uint8 basis)
    {
        return _access(grantee, recordId);
    }

    function _access(address grantee, bytes32 recordId)
        internal
        view
        returns (bool allowed, bool download, bool deidentifiedOnly, uint40 until, uint8 basis)
    {
        Record memory r = _records[recordId];
        if (r.patient == address(0) || r.flags & RECORD_SUPERSEDED != 0) return (false, false, false, 0, BASIS_NONE);
        if (grantee == r.patient) return (true, true, false, type(uint40).max, BASIS_PATIENT);

        Participant memory p = _participants[grantee];
        if (p.status != Status.Approved) return (false, false, false, 0, BASIS_NONE);
        if (p.role == Role.Unit && p.unitIndex == r.unitIndex) {
            return (true, true, false, type(uint40).max, BASIS_CUSTODIAN);
        }

        Grant memory g = _grants[r.patient][grantee];
        bool live = g.scope != Scope.None && g.expiresAt > block.timestamp;
        if (r.flags & RECORD_DEIDENTIFIED != 0) {
            // A de-identified copy: its audience, under any live grant from the patient (download per that grant).
            // No other grantee, no emergency: the copy exists for that one requestor.
            if (live && _copyAudience[recordId] == grantee) {
                return (true, g.flags & GRANT_DOWNLOAD != 0, false, g.expiresAt, BASIS_GRANT);
            }
            return (false, false, false, 0, BASIS_NONE);
        }
        if (live) {
            bool covered = g.scope == Scope.All || (g.scope == Scope.Kinds && (g.kindMask >> uint8(r.kind)) & 1 == 1)
                || (g.scope == Scope.Records && _recordGrants[_recordGrantKey(r.patient, grantee, recordId)] == g.epoch);
            if (covered) {
                if (g.flags & GRANT_DEIDENTIFIED_ONLY == 0) {
                    return (true, g.flags & GRANT_DOWNLOAD != 0, false, g.expiresAt, BASIS_GRANT);
                }
                // A de-identified-only grant never covers an original: refused, with the reason in the flag.
                deidentifiedOnly = true;
            }
        }

        if (p.role == Role.Medic && p.unitIndex == r.unitIndex) {
            Emergency memory e = _emergencies[grantee][r.patient];
            // Break-glass is view-only and lapses with the medic's unit.
            if (e.until > block.timestamp && _participants[p.unit].status == Status.Approved) {
                return (true, false, false, e.until, BASIS_EMERGENCY);
            }
        }
        return (false, false, deidentifiedOnly, 0, BASIS_NONE);
    }
}
