export function MedicEmergency() {
  return <p>MedicEmergency: to be built.</p>
}
