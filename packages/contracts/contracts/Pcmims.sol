// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessModule} from "./modules/AccessModule.sol";
import {AuditModule} from "./modules/AuditModule.sol";
import {EmergencyModule} from "./modules/EmergencyModule.sol";
import {GovernanceModule} from "./modules/GovernanceModule.sol";
import {ParticipantsModule} from "./modules/ParticipantsModule.sol";
import {RecordsModule} from "./modules/RecordsModule.sol";
import {RequestsModule} from "./modules/RequestsModule.sol";
import {ZeroAddress} from "./PcmimsTypes.sol";

/// PCMIMS registry: participants, record anchors, patient grants, access requests, break-glass access and the
/// units' audit-log roots.
/// No PHI: only pseudonymous addresses, 32-byte digests, kinds, times and grant terms.
contract Pcmims is
    GovernanceModule,
    ParticipantsModule,
    RecordsModule,
    RequestsModule,
    EmergencyModule,
    AccessModule,
    AuditModule
{
    constructor(address governance_) {
        if (governance_ == address(0)) revert ZeroAddress();
        governance = governance_;
        emit GovernanceTransferred(address(0), governance_);
    }
}
