export function UnitRegistrations() {
  return <p>UnitRegistrations: to be built.</p>
}
