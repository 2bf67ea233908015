export function PatientEmergencies() {
  return <p>PatientEmergencies: to be built.</p>
}

export function EmergencyBanner() {
  return <p>EmergencyBanner: to be built.</p>
}
