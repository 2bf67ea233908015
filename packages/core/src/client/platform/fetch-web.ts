/**
 * Browsers: a streamed request body (`duplex: 'half'`) is sent by Chromium only over HTTP/2, and a node
 * speaks HTTP/1.1 unless it sits behind an HTTP/2 proxy (net::ERR_ALPN_NEGOTIATION_FAILED). So a stream
 * is gathered into a Blob first; browsers keep large Blobs on disk, not in the page's memory. Only
 * ciphertext is ever streamed to a node.
 */
export const platformFetch: typeof fetch = async (input, init) => {
  if (init?.body instanceof ReadableStream) {
    const { duplex: _streamed, ...rest } = init as RequestInit & { duplex?: string }
    return globalThis.fetch(input, { ...rest, body: await new Response(init.body).blob() })
  }
  return globalThis.fetch(input, init)
}
