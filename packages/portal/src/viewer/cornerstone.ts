import {
  cache,
  getRenderingCapabilities,
  init as initCore,
  registerImageLoader,
  setUseCPURendering,
} from '@cornerstonejs/core'
import { init as initImageLoader, wadouri } from '@cornerstonejs/dicom-image-loader'
import { utilities as metadataUtilities } from '@cornerstonejs/metadata'
import {
  addTool,
  init as initTools,
  PanTool,
  StackScrollTool,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools'
import { onWipe } from '../session/secrets.js'

/**
 * Decrypted instances reach Cornerstone only from memory: image ids `pcmims:<viewer>/<file>` (plus
 * `?frame=<n>` for multi-frame) name a file of the open record, nothing else, and this loader asks the
 * viewer for the decrypted bytes (waiting for them when the file is still being decrypted). It is what
 * Cornerstone's `dicomfile:` loader does with a Blob from `wadouri.fileManager`, but with ids that can
 * exist before the bytes do, so the whole stack is set up while only the first image is decrypted. No
 * URL, of the node or a blob, ever serves decrypted data.
 */
export const SCHEME = 'pcmims'

type Source = (fileIndex: number) => Promise<Uint8Array<ArrayBuffer>>

const sources = new Map<string, Source>()
let viewerSeq = 0

/** Registers a viewer's decrypted-bytes source; returns its image-id prefix and the unregister function. */
export function registerSource(source: Source): { prefix: string; unregister: () => void } {
  const key = `v${++viewerSeq}`
  sources.set(key, source)
  return {
    prefix: `${SCHEME}:${key}/`,
    unregister: () => {
      sources.delete(key)
      purgeViewerCaches()
    },
  }
}

export function imageIdFor(prefix: string, fileIndex: number, frame?: number): string {
  return frame === undefined ? `${prefix}${fileIndex}` : `${prefix}${fileIndex}?frame=${frame}`
}

function sourceOf(url: string): { source: Source | undefined; fileIndex: number } {
  const [key = '', file = ''] = url.split('/')
  return { source: sources.get(key), fileIndex: Number.parseInt(file, 10) }
}

/**
 * Cornerstone's own Part 10 loader (parse once per file, frames cut from the parsed data set, the
 * metadata provider reading the same data set), fed from memory instead of a URL.
 */
function loadPcmimsImage(imageId: string, options: Record<string, unknown> = {}) {
  const parsed = wadouri.parseImageId(imageId)
  const dataSet = wadouri.dataSetCacheManager.load(
    parsed.url,
    async (url: string) => {
      const { source, fileIndex } = sourceOf(url)
      if (!source || !Number.isSafeInteger(fileIndex))
        throw new Error('This image belongs to a closed viewer')
      return (await source(fileIndex)).buffer
    },
    imageId,
  )
  const checked = dataSet.then((parsedDataSet) => {
    dropInconsistentOffsetTable(parsedDataSet)
    return parsedDataSet
  })
  return wadouri.loadImageFromPromise(checked, imageId, parsed.pixelDataFrame ?? 0, parsed.url, options)
}

type EncapsulatedElement = { basicOffsetTable?: number[]; fragments?: Array<{ offset: number }> }

/**
 * Some real multi-frame files carry a Basic Offset Table that points between fragments
 * (fixtures/dicom/valid/XA_angio_jpegll.dcm). The table is optional (PS3.5 A.4), so one that names no
 * fragment start is dropped and frames are found from the fragments instead.
 */
function dropInconsistentOffsetTable(dataSet: { elements: Record<string, unknown> }): void {
  const pixels = dataSet.elements.x7fe00010 as EncapsulatedElement | undefined
  const table = pixels?.basicOffsetTable
  if (!pixels?.fragments || !table?.length) return
  const starts = new Set(pixels.fragments.map((fragment) => fragment.offset))
  if (table.some((offset) => !starts.has(offset))) pixels.basicOffsetTable = []
}

/** Empties every cache that holds decrypted pixels or headers: images, parsed data sets, metadata. */
export function purgeViewerCaches(): void {
  cache.purgeCache()
  wadouri.fileManager.purge()
  wadouri.dataSetCacheManager.purge()
  metadataUtilities.cacheData.clearCacheData()
}

let initialised: Promise<{ cpu: boolean }> | undefined

/**
 * Starts Cornerstone once per page. WebGL where the browser has a real one; the CPU path where it has
 * none or only a software rasteriser (headless Chromium, some VMs), which draws a stack faster there.
 */
export function initCornerstone(): Promise<{ cpu: boolean }> {
  initialised ??= (async () => {
    initCore()
    const capabilities = getRenderingCapabilities()
    const cpu = !capabilities.webgl || capabilities.softwareRasterizer === true
    if (cpu) setUseCPURendering(true)
    // The data-set metadata provider: the newer naturalised one cannot be told to ignore a broken offset
    // table, and fails on frames of real files like fixtures/dicom/valid/XA_angio_jpegll.dcm.
    initImageLoader({
      maxWebWorkers: Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)),
      useLegacyMetadataProvider: true,
    })
    registerImageLoader(SCHEME, loadPcmimsImage as never)
    initTools()
    for (const tool of [StackScrollTool, WindowLevelTool, ZoomTool, PanTool]) addTool(tool)
    onWipe(purgeViewerCaches)
    return { cpu }
  })()
  return initialised
}
