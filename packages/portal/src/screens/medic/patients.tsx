export function MedicPatients() {
  return <p>MedicPatients: to be built.</p>
}
