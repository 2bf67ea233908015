export function UnitStaff() {
  return <p>UnitStaff: to be built.</p>
}
