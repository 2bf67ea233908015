/** A DICOM DA value (`YYYYMMDD`) as an ISO 8601 date (`YYYY-MM-DD`); undefined when it is not one. */
export function dicomDateToIso(dicomDate: string | undefined): string | undefined {
  const match = dicomDate ? /^(\d{4})(\d{2})(\d{2})$/.exec(dicomDate.trim()) : null
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined
}
