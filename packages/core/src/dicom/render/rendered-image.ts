/** An 8-bit image ready for encoding: grey (1 channel) or RGB (3 channels), rows top to bottom. */
export type RenderedImage = {
  width: number
  height: number
  channels: 1 | 3
  data: Uint8Array
}
