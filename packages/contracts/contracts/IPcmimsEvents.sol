// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Kind, Role, Scope, Status} from "./PcmimsTypes.sol";

/// Every state change emits exactly one of these (a Records-scope grant also lists its record ids).
/// Indexed topics are the addresses a wallet filters on without an indexer; the rest is data (cheaper).
interface IPcmimsEvents {
    event GovernanceTransferStarted(address indexed governance, address indexed pendingGovernance);
    event GovernanceTransferred(address indexed previousGovernance, address indexed governance);

    event UnitAdmitted(address indexed unit, uint32 unitIndex, bytes32 encryptionKey);
    event ParticipantRegistered(address indexed account, address indexed unit, Role role, bytes32 encryptionKey);
    /// `by` is the unit (staff, patients) or the governance (units).
    event ParticipantStatusChanged(address indexed account, address indexed by, Status status);
    event EncryptionKeySet(address indexed account, bytes32 encryptionKey);

    event RecordAnchored(
        bytes32 indexed id, address indexed patient, address uploader, Kind kind, uint32 unitIndex
    );
    event RecordRotated(bytes32 indexed oldId, bytes32 indexed newId);
    /// A de-identified copy `id` of `sourceId` (same patient, kind and custodian), readable by `audience` only
    /// besides the patient and the custodian.
    event DeidentifiedCopyAnchored(bytes32 indexed id, bytes32 indexed sourceId, address indexed audience);

    /// `terms` is the grant exactly as stored (the packed `Grant` slot), low bits first: expiresAt 0..39 (uint40),
    /// kindMask 40..55 (uint16), scope 56..63 (uint8 `Scope`), flags 64..71 (uint8), epoch 72..103 (uint32);
    /// bits 104..255 are zero. One data word instead of five saves ~1k gas per grant.
    event GrantSet(address indexed patient, address indexed grantee, uint256 terms, bytes32 keyBundle);
    /// Emitted right after `GrantSet` for a Records-scope grant: the records of that epoch.
    event GrantRecords(address indexed patient, address indexed grantee, uint32 epoch, bytes32[] recordIds);
    event GrantRevoked(address indexed patient, address indexed grantee, uint32 epoch);

    event AccessRequested(
        uint256 indexed id,
        address indexed requestor,
        address indexed patient,
        Scope scope,
        uint16 kindMask,
        uint8 purposeCode,
        bytes32 details
    );
    event RequestApproved(uint256 indexed id, address indexed patient, address indexed requestor);
    event RequestDenied(uint256 indexed id, address indexed patient, address indexed requestor);

    event EmergencyDeclared(
        address indexed medic, address indexed patient, uint32 unitIndex, uint8 reasonCode, uint40 until
    );
    event EmergencyEnded(address indexed medic, address indexed patient);

    /// A unit anchored the Merkle root of its audit log at `size` entries.
    event AuditRootAnchored(address indexed unit, uint64 size, bytes32 root);
}
