/** `0x1234…abcd`: enough to tell accounts apart on screen; the full address is in the title. */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })

/** A chain or node time (unix seconds, or an ISO string) for people. */
export function formatTime(value: number | bigint | string | undefined | null): string {
  if (value === undefined || value === null || value === '') return '—'
  const date = typeof value === 'string' ? new Date(value) : new Date(Number(value) * 1000)
  return Number.isNaN(date.getTime()) ? String(value) : dateTime.format(date)
}

export function formatDate(value: number | bigint | string | undefined | null): string {
  if (value === undefined || value === null || value === '') return '—'
  const date = typeof value === 'string' ? new Date(value) : new Date(Number(value) * 1000)
  return Number.isNaN(date.getTime()) ? String(value) : dateOnly.format(date)
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

/** Time left until a unix-seconds moment, for grants and emergencies ("3 h 20 min", "expired"). */
export function formatRemaining(untilS: number | bigint, nowS = Date.now() / 1000): string {
  const left = Number(untilS) - nowS
  if (left <= 0) return 'expired'
  const days = Math.floor(left / 86400)
  const hours = Math.floor((left % 86400) / 3600)
  const minutes = Math.floor((left % 3600) / 60)
  if (days > 0) return `${days} d ${hours} h`
  if (hours > 0) return `${hours} h ${minutes} min`
  return `${Math.max(1, minutes)} min`
}
