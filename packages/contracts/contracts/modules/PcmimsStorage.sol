// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPcmimsEvents} from "../IPcmimsEvents.sol";
import {
    AccessRequest,
    Emergency,
    Grant,
    NotApprovedParticipant,
    Participant,
    Record,
    Role,
    UnitNotApproved
} from "../PcmimsTypes.sol";

/// State shared by the modules. Every mapping value is packed so that each check costs one SLOAD.
abstract contract PcmimsStorage is IPcmimsEvents {
    address public governance;
    address public pendingGovernance;
    uint32 public unitCount;
    uint256 public requestCount;

    mapping(address account => Participant) internal _participants;
    mapping(address account => bytes32) internal _encryptionKeys;
    mapping(uint32 unitIndex => address) internal _unitsByIndex;
    mapping(bytes32 id => Record) internal _records;
    mapping(address patient => mapping(address grantee => Grant)) internal _grants;
    /// keccak256(abi.encode(patient, grantee, recordId)) => epoch of the Records-scope grant that listed it.
    mapping(bytes32 key => uint32) internal _recordGrants;
    mapping(uint256 id => AccessRequest) internal _requests;
    mapping(address medic => mapping(address patient => Emergency)) internal _emergencies;
    /// The one reader (besides patient and custodian) of a RECORD_DEIDENTIFIED record. Appended: storage order.
    mapping(bytes32 id => address) internal _copyAudience;

    // Raw packed-slot access for the hot paths: one SLOAD and shifts instead of a memory struct copy (which
    // costs ~0.5k gas per struct). Bit offsets follow Solidity's packing of the structs in PcmimsTypes.sol
    // (first member in the lowest bits). The views decode the same slots through the structs, so a layout
    // mismatch fails the contract tests.
    uint256 internal constant P_ROLE = 160; // Participant: unit 0..159, role 160, status 168
    uint256 internal constant P_STATUS = 168;
    uint256 internal constant P_UNIT_INDEX = 176; // unitIndex 176..207, updatedAt 208..247
    uint256 internal constant R_KIND = 160; // Record: patient 0..159, kind 160, createdAt 168..207
    uint256 internal constant R_CREATED_AT = 168;
    uint256 internal constant R_UNIT_INDEX = 208; // unitIndex 208..239, flags 240..247
    uint256 internal constant R_FLAGS = 240;
    uint256 internal constant G_KIND_MASK = 40; // Grant: expiresAt 0..39, kindMask 40..55
    uint256 internal constant G_SCOPE = 56; // scope 56, flags 64, epoch 72..103
    uint256 internal constant G_FLAGS = 64;
    uint256 internal constant G_EPOCH = 72;
    uint256 internal constant MASK_40 = 0xffffffffff;
    uint256 internal constant APPROVED = 2; // uint8(Status.Approved)

    function _participantWord(address account) internal view returns (uint256 word) {
        Participant storage p = _participants[account];
        assembly ("memory-safe") {
            word := sload(p.slot)
        }
    }

    /// Reverts unless `account` is an Approved participant in `role`; returns its packed slot.
    function _requireApproved(address account, Role role) internal view returns (uint256 word) {
        word = _participantWord(account);
        if ((word >> P_ROLE) & 0xffff != (APPROVED << 8) | uint256(uint8(role))) {
            revert NotApprovedParticipant(account, role);
        }
    }

    function _requireUnitApproved(address unit) internal view {
        if ((_participantWord(unit) >> P_STATUS) & 0xff != APPROVED) revert UnitNotApproved(unit);
    }

    function _recordGrantKey(address patient, address grantee, bytes32 recordId) internal pure returns (bytes32) {
        return keccak256(abi.encode(patient, grantee, recordId));
    }
}
