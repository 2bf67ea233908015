// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    AccessRequest,
    InvalidPurpose,
    InvalidScope,
    MAX_PURPOSE_CODE,
    NotApprovedParticipant,
    NotRequestPatient,
    Participant,
    RequestNotFound,
    RequestNotPending,
    RequestStatus,
    Role,
    Scope,
    Status
} from "../PcmimsTypes.sol";
import {GrantsModule} from "./GrantsModule.sol";

/// A requestor (or medic) asks a patient; the patient approves (which writes the grant) or denies.
abstract contract RequestsModule is GrantsModule {
    /// `details` is the digest of an encrypted note on IPFS, or zero; it is logged, not stored.
    function requestAccess(address patient, Scope scope, uint16 kindMask, uint8 purposeCode, bytes32 details)
        external
        returns (uint256 id)
    {
        Participant memory q = _participants[msg.sender];
        if ((q.role != Role.Requestor && q.role != Role.Medic) || q.status != Status.Approved) {
            revert NotApprovedParticipant(msg.sender, Role.Requestor);
        }
        _requireApproved(patient, Role.Patient);
        // A requestor cannot name records it has no business knowing: All or Kinds only.
        if (scope != Scope.All && scope != Scope.Kinds) revert InvalidScope(scope);
        _validateScope(scope, kindMask);
        if (purposeCode > MAX_PURPOSE_CODE) revert InvalidPurpose(purposeCode);
        id = ++requestCount;
        _requests[id] = AccessRequest({
            requestor: msg.sender,
            scope: scope,
            kindMask: kindMask,
            purposeCode: purposeCode,
            status: RequestStatus.Pending,
            createdAt: uint40(block.timestamp),
            patient: patient
        });
        emit AccessRequested(id, msg.sender, patient, scope, kindMask, purposeCode, details);
    }

    /// Approves a pending request and writes (or replaces) the requestor's grant with the requested scope.
    function approveRequest(uint256 id, uint40 expiresAt, uint8 flags, bytes32 keyBundle) external {
        AccessRequest memory q = _pendingRequestOfCaller(id);
        _requireApproved(msg.sender, Role.Patient);
        _requests[id].status = RequestStatus.Approved;
        emit RequestApproved(id, msg.sender, q.requestor);
        _setGrant(msg.sender, q.requestor, q.scope, q.kindMask, expiresAt, flags, keyBundle);
    }

    function denyRequest(uint256 id) external {
        AccessRequest memory q = _pendingRequestOfCaller(id);
        _requests[id].status = RequestStatus.Denied;
        emit RequestDenied(id, msg.sender, q.requestor);
    }

    function requestOf(uint256 id) external view returns (AccessRequest memory) {
        return _requests[id];
    }

    function _pendingRequestOfCaller(uint256 id) private view returns (AccessRequest memory q) {
        q = _requests[id];
        if (q.status == RequestStatus.None) revert RequestNotFound(id);
        if (q.patient != msg.sender) revert NotRequestPatient(id, msg.sender);
        if (q.status != RequestStatus.Pending) revert RequestNotPending(id, q.status);
    }
}
