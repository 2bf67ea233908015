/** Browsers stream request bodies themselves (`duplex: 'half'`). */
export const platformFetch: typeof fetch = (input, init) => globalThis.fetch(input, init)
