export function PatientAudit() {
  return <p>PatientAudit: to be built.</p>
}
