// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    AlreadyRegistered,
    InvalidRole,
    InvalidStatusTransition,
    NotApprovedParticipant,
    NotRegistered,
    NotUnitOf,
    Participant,
    Role,
    Status,
    UnitNotApproved,
    ZeroKey
} from "../PcmimsTypes.sol";
import {PcmimsStorage} from "./PcmimsStorage.sol";

/// Registration follows the seed paper: an account asks a health unit; the unit approves before it can act.
abstract contract ParticipantsModule is PcmimsStorage {
    /// Called by the account itself. Allowed when not registered or previously Rejected; leaves it Pending.
    function register(address unit, Role role, bytes32 encryptionKey) external {
        if (role != Role.Patient && role != Role.Uploader && role != Role.Medic && role != Role.Requestor) {
            revert InvalidRole(role);
        }
        if (encryptionKey == bytes32(0)) revert ZeroKey();
        Participant memory current = _participants[msg.sender];
        if (current.role != Role.None && current.status != Status.Rejected) revert AlreadyRegistered(msg.sender);
        Participant memory u = _participants[unit];
        if (u.role != Role.Unit || u.status != Status.Approved) revert UnitNotApproved(unit);
        _participants[msg.sender] = Participant({
            unit: unit,
            role: role,
            status: Status.Pending,
            unitIndex: u.unitIndex,
            updatedAt: uint40(block.timestamp)
        });
        _encryptionKeys[msg.sender] = encryptionKey;
        emit ParticipantRegistered(msg.sender, unit, role, encryptionKey);
    }

    /// Pending or Suspended → Approved; by the account's unit.
    function approve(address account) external {
        Status current = _requireOwnUnit(account);
        if (current != Status.Pending && current != Status.Suspended) {
            revert InvalidStatusTransition(account, current);
        }
        _setStatus(account, Status.Approved);
    }

    /// Pending → Rejected; by the account's unit. A rejected account may register again.
    function reject(address account) external {
        Status current = _requireOwnUnit(account);
        if (current != Status.Pending) revert InvalidStatusTransition(account, current);
        _setStatus(account, Status.Rejected);
    }

    /// Approved → Suspended; by the account's unit.
    function suspend(address account) external {
        Status current = _requireOwnUnit(account);
        if (current != Status.Approved) revert InvalidStatusTransition(account, current);
        _setStatus(account, Status.Suspended);
    }

    /// Key rotation for an Approved participant (units included).
    function setEncryptionKey(bytes32 encryptionKey) external {
        if (encryptionKey == bytes32(0)) revert ZeroKey();
        Participant memory p = _participants[msg.sender];
        if (p.status != Status.Approved) revert NotApprovedParticipant(msg.sender, p.role);
        _encryptionKeys[msg.sender] = encryptionKey;
        emit EncryptionKeySet(msg.sender, encryptionKey);
    }

    function participantOf(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    function encryptionKeyOf(address account) external view returns (bytes32) {
        return _encryptionKeys[account];
    }

    /// The caller must be `account`'s unit, itself Approved; units are governed elsewhere.
    function _requireOwnUnit(address account) private view returns (Status) {
        Participant memory p = _participants[account];
        if (p.role == Role.None) revert NotRegistered(account);
        if (p.unit != msg.sender || p.role == Role.Unit) revert NotUnitOf(msg.sender, account);
        if (_participants[msg.sender].status != Status.Approved) revert UnitNotApproved(msg.sender);
        return p.status;
    }

    function _setStatus(address account, Status status) private {
        Participant storage p = _participants[account];
        p.status = status;
        p.updatedAt = uint40(block.timestamp);
        emit ParticipantStatusChanged(account, msg.sender, status);
    }
}
