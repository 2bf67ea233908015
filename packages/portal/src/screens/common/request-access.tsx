export function RequestAccess() {
  return <p>RequestAccess: to be built.</p>
}
