// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    AnchorInput,
    EmptyBatch,
    Kind,
    NotPatientOrCustodian,
    NotUploaderOrUnit,
    Participant,
    RECORD_SUPERSEDED,
    Record,
    RecordExists,
    RecordNotFound,
    RecordSuperseded,
    Role,
    Status
} from "../PcmimsTypes.sol";
import {PcmimsStorage} from "./PcmimsStorage.sol";

/// One record per study or report: one storage slot and one event, whatever the number of instances.
abstract contract RecordsModule is PcmimsStorage {
    /// By the uploader, or relayed by the uploader's unit (its node submits for its staff).
    function anchorRecord(bytes32 id, address patient, address uploader, Kind kind) external {
        uint256 unitIndex = _checkUploader(uploader);
        _requireApproved(patient, Role.Patient);
        _anchor(id, patient, uploader, kind, unitIndex);
    }

    /// Several records in one transaction; the checks run once per distinct consecutive uploader / patient.
    function anchorRecords(AnchorInput[] calldata records) external {
        uint256 n = records.length;
        if (n == 0) revert EmptyBatch();
        address lastUploader;
        address lastPatient;
        uint256 unitIndex;
        for (uint256 i; i < n; ++i) {
            AnchorInput calldata r = records[i];
            address uploader = r.uploader;
            address patient = r.patient;
            if (uploader != lastUploader) {
                unitIndex = _checkUploader(uploader);
                lastUploader = uploader;
            }
            if (patient != lastPatient) {
                _requireApproved(patient, Role.Patient);
                lastPatient = patient;
            }
            _anchor(r.id, patient, uploader, r.kind, unitIndex);
        }
    }

    /// Re-anchors a re-encrypted record under `newId`; `oldId` is superseded and grants no access any more.
    /// By the record's patient (whatever their status) or its custodian unit (Approved).
    function rotateRecord(bytes32 oldId, bytes32 newId) external {
        Record memory r = _records[oldId];
        if (r.patient == address(0)) revert RecordNotFound(oldId);
        if (r.flags & RECORD_SUPERSEDED != 0) revert RecordSuperseded(oldId);
        if (msg.sender != r.patient) {
            Participant memory c = _participants[msg.sender];
            if (c.role != Role.Unit || c.unitIndex != r.unitIndex || c.status != Status.Approved) {
                revert NotPatientOrCustodian(msg.sender, oldId);
            }
        }
        if (_records[newId].patient != address(0)) revert RecordExists(newId);
        _records[oldId].flags = r.flags | RECORD_SUPERSEDED;
        _records[newId] = Record({
            patient: r.patient,
            kind: r.kind,
            createdAt: uint40(block.timestamp),
            unitIndex: r.unitIndex,
            flags: 0
        });
        emit RecordRotated(oldId, newId);
    }

    function recordOf(bytes32 id) external view returns (Record memory) {
        return _records[id];
    }

    /// Uploader Approved with role Uploader; caller the uploader or its unit; that unit Approved.
    function _checkUploader(address uploader) private view returns (uint256 unitIndex) {
        uint256 word = _requireApproved(uploader, Role.Uploader);
        address unit = address(uint160(word));
        if (msg.sender != uploader && msg.sender != unit) revert NotUploaderOrUnit(msg.sender, uploader);
        _requireUnitApproved(unit);
        unitIndex = (word >> P_UNIT_INDEX) & 0xffffffff;
    }

    /// Writes the packed Record {patient, kind, createdAt, unitIndex, flags = 0} with one SSTORE.
    function _anchor(bytes32 id, address patient, address uploader, Kind kind, uint256 unitIndex) private {
        Record storage r = _records[id];
        uint256 existing;
        assembly ("memory-safe") {
            existing := sload(r.slot)
        }
        if (existing != 0) revert RecordExists(id);
        uint256 word = uint256(uint160(patient)) | (uint256(uint8(kind)) << R_KIND)
            | (block.timestamp << R_CREATED_AT) | (unitIndex << R_UNIT_INDEX);
        assembly ("memory-safe") {
            sstore(r.slot, word)
        }
        emit RecordAnchored(id, patient, uploader, kind, uint32(unitIndex));
    }
}
