export function HeldStudies() {
  return <p>HeldStudies: to be built.</p>
}
