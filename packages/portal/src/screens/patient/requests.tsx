export function PatientRequests() {
  return <p>PatientRequests: to be built.</p>
}
