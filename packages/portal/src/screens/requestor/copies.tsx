export function RequestorCopies() {
  return <p>RequestorCopies: to be built.</p>
}
