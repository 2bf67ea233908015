import { RecordList } from '../common/record-list.js'

/** The patient's own images and reports, newest first. */
export function PatientRecords() {
  return <RecordList />
}
