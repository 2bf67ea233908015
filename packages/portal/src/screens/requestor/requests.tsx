export function RequestorRequests() {
  return <p>RequestorRequests: to be built.</p>
}
