export function PatientSharing() {
  return <p>PatientSharing: to be built.</p>
}
