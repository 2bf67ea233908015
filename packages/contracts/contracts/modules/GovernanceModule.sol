// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    AlreadyRegistered,
    InvalidStatus,
    InvalidStatusTransition,
    NotAUnit,
    NotGovernance,
    NotPendingGovernance,
    Participant,
    Role,
    Status,
    ZeroAddress,
    ZeroKey
} from "../PcmimsTypes.sol";
import {PcmimsStorage} from "./PcmimsStorage.sol";

/// Network governance admits and suspends health units, and nothing else: it holds no path to grants or records.
abstract contract GovernanceModule is PcmimsStorage {
    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance(msg.sender);
        _;
    }

    /// Starts a two-step handover; `next` = 0 cancels a pending one.
    function transferGovernance(address next) external onlyGovernance {
        pendingGovernance = next;
        emit GovernanceTransferStarted(msg.sender, next);
    }

    function acceptGovernance() external {
        if (msg.sender != pendingGovernance || msg.sender == address(0)) revert NotPendingGovernance(msg.sender);
        address previous = governance;
        governance = msg.sender;
        pendingGovernance = address(0);
        emit GovernanceTransferred(previous, msg.sender);
    }

    /// Makes `unit` an Approved participant with role Unit and the next unit index (1, 2, 3...).
    function admitUnit(address unit, bytes32 encryptionKey) external onlyGovernance returns (uint32 unitIndex) {
        if (unit == address(0)) revert ZeroAddress();
        if (encryptionKey == bytes32(0)) revert ZeroKey();
        if (_participants[unit].role != Role.None) revert AlreadyRegistered(unit);
        unitIndex = ++unitCount;
        _participants[unit] = Participant({
            unit: unit,
            role: Role.Unit,
            status: Status.Approved,
            unitIndex: unitIndex,
            updatedAt: uint40(block.timestamp)
        });
        _encryptionKeys[unit] = encryptionKey;
        _unitsByIndex[unitIndex] = unit;
        emit UnitAdmitted(unit, unitIndex, encryptionKey);
    }

    /// Suspends (Approved → Suspended) or re-approves (Suspended → Approved) a unit.
    function setUnitStatus(address unit, Status status) external onlyGovernance {
        if (status != Status.Approved && status != Status.Suspended) revert InvalidStatus(status);
        Participant storage p = _participants[unit];
        if (p.role != Role.Unit) revert NotAUnit(unit);
        Status current = p.status;
        if (current == status) revert InvalidStatusTransition(unit, current);
        p.status = status;
        p.updatedAt = uint40(block.timestamp);
        emit ParticipantStatusChanged(unit, msg.sender, status);
    }

    function unitAt(uint32 unitIndex) external view returns (address) {
        return _unitsByIndex[unitIndex];
    }
}
