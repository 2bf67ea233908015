// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    Emergency,
    EmergencyActive,
    InvalidDuration,
    NoActiveEmergency,
    Role
} from "../PcmimsTypes.sol";
import {PcmimsStorage} from "./PcmimsStorage.sol";

/// Break-glass: time-boxed, on chain, never extended silently.
abstract contract EmergencyModule is PcmimsStorage {
    uint32 public constant MAX_EMERGENCY_DURATION = 4 hours;

    /// By an Approved medic of an Approved unit, for an Approved patient. Covers the records the medic's unit
    /// is custodian of, for `durationSeconds` (1 s .. 4 h). A new declaration while one is active reverts.
    function declareEmergency(address patient, uint8 reasonCode, uint32 durationSeconds) external {
        uint256 medic = _requireApproved(msg.sender, Role.Medic);
        _requireUnitApproved(address(uint160(medic)));
        uint32 unitIndex = uint32(medic >> P_UNIT_INDEX);
        _requireApproved(patient, Role.Patient);
        if (durationSeconds == 0 || durationSeconds > MAX_EMERGENCY_DURATION) revert InvalidDuration(durationSeconds);
        uint40 current = _emergencies[msg.sender][patient].until;
        if (current > block.timestamp) revert EmergencyActive(msg.sender, patient, current);
        uint40 until = uint40(block.timestamp) + durationSeconds;
        _emergencies[msg.sender][patient] = Emergency({
            until: until,
            declaredAt: uint40(block.timestamp),
            unitIndex: unitIndex,
            reasonCode: reasonCode
        });
        emit EmergencyDeclared(msg.sender, patient, unitIndex, reasonCode, until);
    }

    /// The patient ends a medic's active emergency access now.
    function endEmergency(address medic) external {
        Emergency storage e = _emergencies[medic][msg.sender];
        if (e.until <= block.timestamp) revert NoActiveEmergency(medic, msg.sender);
        e.until = uint40(block.timestamp);
        emit EmergencyEnded(medic, msg.sender);
    }

    function emergencyOf(address medic, address patient) external view returns (Emergency memory) {
        return _emergencies[medic][patient];
    }
}
