// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    AnchorInput,
    EmptyBatch,
    Grant,
    InvalidAudience,
    Kind,
    NoActiveGrant,
    NotPatientOrCustodian,
    NotUploaderOrUnit,
    Participant,
    RECORD_DEIDENTIFIED,
    RECORD_SUPERSEDED,
    Record,
    RecordExists,
    RecordNotFound,
    RecordSuperseded,
    Role,
    Scope,
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
    /// By the record's patient (whatever their status) or its custodian unit (Approved). A de-identified copy
    /// stays one, for the same audience.
    function rotateRecord(bytes32 oldId, bytes32 newId) external {
        Record memory r = _currentRecordOfPatientOrCustodian(oldId);
        if (_records[newId].patient != address(0)) revert RecordExists(newId);
        _records[oldId].flags = r.flags | RECORD_SUPERSEDED;
        uint8 deidentified = r.flags & RECORD_DEIDENTIFIED;
        _records[newId] = Record({
            patient: r.patient,
            kind: r.kind,
            createdAt: uint40(block.timestamp),
            unitIndex: r.unitIndex,
            flags: deidentified
        });
        if (deidentified != 0) _copyAudience[newId] = _copyAudience[oldId];
        emit RecordRotated(oldId, newId);
    }

    /// Anchors `id`, a de-identified copy of the current record `sourceId` made for `audience`: same patient,
    /// kind and custodian, flag RECORD_DEIDENTIFIED. By the patient, or relayed by the custodian unit (its node's
    /// outbox anchors what the patient submitted). `audience` must be an Approved participant holding a live
    /// grant from the patient now, so neither the unit nor anyone else can open a copy to someone the patient
    /// has not granted; and the copy stays readable only while such a grant lives (see AccessModule).
    function anchorDeidentifiedCopy(bytes32 id, bytes32 sourceId, address audience) external {
        Record memory r = _currentRecordOfPatientOrCustodian(sourceId);
        if (audience == r.patient || (_participantWord(audience) >> P_STATUS) & 0xff != APPROVED) {
            revert InvalidAudience(audience);
        }
        Grant storage g = _grants[r.patient][audience];
        uint256 terms;
        assembly ("memory-safe") {
            terms := sload(g.slot)
        }
        if ((terms >> G_SCOPE) & 0xff == uint8(Scope.None) || terms & MASK_40 <= block.timestamp) {
            revert NoActiveGrant(r.patient, audience);
        }
        Record storage copy = _records[id];
        uint256 existing;
        assembly ("memory-safe") {
            existing := sload(copy.slot)
        }
        if (existing != 0) revert RecordExists(id);
        uint256 word = uint256(uint160(r.patient)) | (uint256(uint8(r.kind)) << R_KIND)
            | (block.timestamp << R_CREATED_AT) | (uint256(r.unitIndex) << R_UNIT_INDEX)
            | (uint256(RECORD_DEIDENTIFIED) << R_FLAGS);
        assembly ("memory-safe") {
            sstore(copy.slot, word)
        }
        _copyAudience[id] = audience;
        emit DeidentifiedCopyAnchored(id, sourceId, audience);
    }

    /// The audience of a de-identified copy (zero for any other record).
    function copyAudienceOf(bytes32 id) external view returns (address) {
        return _copyAudience[id];
    }

    function recordOf(bytes32 id) external view returns (Record memory) {
        return _records[id];
    }

    /// The current record `id`, which the caller may rotate or copy: its patient, or its Approved custodian unit.
    function _currentRecordOfPatientOrCustodian(bytes32 id) private view returns (Record memory r) {
        r = _records[id];
        if (r.patient == address(0)) revert RecordNotFound(id);
        if (r.flags & RECORD_SUPERSEDED != 0) revert RecordSuperseded(id);
        if (msg.sender != r.patient) {
            Participant memory c = _participants[msg.sender];
            if (c.role != Role.Unit || c.unitIndex != r.unitIndex || c.status != Status.Approved) {
                revert NotPatientOrCustodian(msg.sender, id);
            }
        }
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
