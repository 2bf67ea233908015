export function PatientRecords() {
  return <p>PatientRecords: to be built.</p>
}
