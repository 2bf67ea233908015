import { RequestAccess } from '../common/request-access.js'

/** Requestor: ask patients for access (often for de-identified copies) and follow the answers. */
export function RequestorRequests() {
  return <RequestAccess />
}
