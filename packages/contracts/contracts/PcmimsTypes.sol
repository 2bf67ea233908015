// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Shared vocabulary of the PCMIMS contract. Enum order is part of the ABI: packages/contracts/src/constants.ts
// mirrors it and a test compares the two, so append, never reorder.

enum Role {
    None,
    Unit,
    Patient,
    Uploader,
    Medic,
    Requestor
}

enum Status {
    None,
    Pending,
    Approved,
    Rejected,
    Suspended
}

enum Kind {
    MRI,
    CT,
    XRAY,
    US,
    REPORT,
    OTHER
}

enum Scope {
    None,
    All,
    Kinds,
    Records
}

enum RequestStatus {
    None,
    Pending,
    Approved,
    Denied
}

/// One storage slot (31 bytes). For a unit, `unit` is the unit itself.
struct Participant {
    address unit;
    Role role;
    Status status;
    uint32 unitIndex;
    uint40 updatedAt;
}

/// One storage slot (31 bytes). `unitIndex` is the custodian unit (the uploader's unit).
struct Record {
    address patient;
    Kind kind;
    uint40 createdAt;
    uint32 unitIndex;
    uint8 flags;
}

/// One storage slot (13 bytes) per (patient, grantee).
struct Grant {
    uint40 expiresAt;
    uint16 kindMask;
    Scope scope;
    uint8 flags;
    uint32 epoch;
}

/// Two storage slots: the first holds everything but the patient.
struct AccessRequest {
    address requestor;
    Scope scope;
    uint16 kindMask;
    uint8 purposeCode;
    RequestStatus status;
    uint40 createdAt;
    address patient;
}

/// One storage slot per (medic, patient).
struct Emergency {
    uint40 until;
    uint40 declaredAt;
    uint32 unitIndex;
    uint8 reasonCode;
}

/// One element of a batched anchor.
struct AnchorInput {
    bytes32 id;
    address patient;
    address uploader;
    Kind kind;
}

// Record flag: replaced by `rotateRecord`; nobody has access to it any more.
uint8 constant RECORD_SUPERSEDED = 1;
// Record flag: a de-identified copy made for one audience (`anchorDeidentifiedCopy`); readable by its patient,
// its custodian unit and that audience while the patient grants it anything — nobody else.
uint8 constant RECORD_DEIDENTIFIED = 2;

// Grant flag bit 0: the grantee may download a copy.
uint8 constant GRANT_DOWNLOAD = 1;
// Grant flag bit 1: the grantee gets de-identified copies only.
uint8 constant GRANT_DEIDENTIFIED_ONLY = 2;
uint8 constant GRANT_FLAGS_MASK = 3;

// Kind mask with one bit per `Kind` member.
uint16 constant KIND_MASK_ALL = 0x3f;

// Highest purpose code of an access request: 0 treatment, 1 research, 2 insurance, 3 legal, 4 other.
uint8 constant MAX_PURPOSE_CODE = 4;

// Why `accessOf` allowed a read.
uint8 constant BASIS_NONE = 0;
uint8 constant BASIS_PATIENT = 1;
uint8 constant BASIS_CUSTODIAN = 2;
uint8 constant BASIS_GRANT = 3;
uint8 constant BASIS_EMERGENCY = 4;

// --- errors (custom errors only: no revert strings) ---

error NotGovernance(address caller);
error NotPendingGovernance(address caller);
error ZeroAddress();
error ZeroKey();
error AlreadyRegistered(address account);
error NotRegistered(address account);
error InvalidRole(Role role);
error InvalidStatus(Status status);
error NotAUnit(address account);
error UnitNotApproved(address unit);
error NotUnitOf(address caller, address account);
error InvalidStatusTransition(address account, Status current);
error NotApprovedParticipant(address account, Role role);
error NotUploaderOrUnit(address caller, address uploader);
error EmptyBatch();
error RecordExists(bytes32 id);
error RecordNotFound(bytes32 id);
error RecordSuperseded(bytes32 id);
error NotRecordPatient(bytes32 id, address patient);
error NotPatientOrCustodian(address caller, bytes32 id);
error InvalidGrantee(address grantee);
error InvalidExpiry(uint40 expiresAt);
error InvalidScope(Scope scope);
error InvalidKindMask(uint16 kindMask);
error InvalidFlags(uint8 flags);
error NoActiveGrant(address patient, address grantee);
error InvalidPurpose(uint8 purposeCode);
error RequestNotFound(uint256 id);
error NotRequestPatient(uint256 id, address caller);
error RequestNotPending(uint256 id, RequestStatus status);
error InvalidDuration(uint32 durationSeconds);
error EmergencyActive(address medic, address patient, uint40 until);
error NoActiveEmergency(address medic, address patient);
error AuditSizeNotIncreasing(address unit, uint64 size, uint64 latest);
error ZeroAuditRoot();
error InvalidAudience(address audience);
