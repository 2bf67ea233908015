import type { ComponentType } from 'react'
import { RequestAccess } from '../screens/common/request-access.js'
import { MedicEmergency } from '../screens/medic/emergency.js'
import { MedicPatients } from '../screens/medic/patients.js'
import { PatientAudit } from '../screens/patient/audit.js'
import { PatientEmergencies } from '../screens/patient/emergencies.js'
import { PatientRecords } from '../screens/patient/records.js'
import { PatientRequests } from '../screens/patient/requests.js'
import { PatientSharing } from '../screens/patient/sharing.js'
import { RequestorCopies } from '../screens/requestor/copies.js'
import { RequestorRequests } from '../screens/requestor/requests.js'
import { HeldStudies } from '../screens/unit/held-studies.js'
import { UnitRegistrations } from '../screens/unit/registrations.js'
import { UnitStaff } from '../screens/unit/staff.js'
import { UploadStudy } from '../screens/uploader/upload.js'

export type Section = { id: string; label: string; component: ComponentType }

/** The pages of each approved role, in menu order; a page's path is `/<id>` and never names a record or person. */
export const SECTIONS: Record<string, Section[]> = {
  Patient: [
    { id: 'records', label: 'My records', component: PatientRecords },
    { id: 'sharing', label: 'Sharing', component: PatientSharing },
    { id: 'requests', label: 'Requests', component: PatientRequests },
    { id: 'emergencies', label: 'Emergency access', component: PatientEmergencies },
    { id: 'audit', label: 'Access log', component: PatientAudit },
  ],
  Medic: [
    { id: 'patients', label: 'My patients', component: MedicPatients },
    { id: 'request-access', label: 'Request access', component: RequestAccess },
    { id: 'emergency', label: 'Emergency access', component: MedicEmergency },
  ],
  Uploader: [
    { id: 'upload', label: 'Upload', component: UploadStudy },
    { id: 'held', label: 'Unmatched studies', component: HeldStudies },
  ],
  Requestor: [
    { id: 'requests', label: 'My requests', component: RequestorRequests },
    { id: 'copies', label: 'Copies received', component: RequestorCopies },
  ],
  Unit: [
    { id: 'registrations', label: 'Registrations', component: UnitRegistrations },
    { id: 'staff', label: 'Staff and members', component: UnitStaff },
    { id: 'held', label: 'Unmatched studies', component: HeldStudies },
  ],
}
