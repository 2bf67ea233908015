import {
  Enums as CoreEnums,
  utilities as coreUtilities,
  eventTarget,
  imageLoader,
  RenderingEngine,
  type Types,
} from '@cornerstonejs/core'
import {
  PanTool,
  StackScrollTool,
  Enums as ToolEnums,
  ToolGroupManager,
  utilities as toolUtilities,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools'
import type { OpenedRecord } from '@pcmims/core'
import { zipSync } from 'fflate'
import { type KeyboardEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useSession } from '../session/session-context.js'
import { describeError } from '../ui/errors.js'
import { formatBytes } from '../ui/format.js'
import { DownloadNote } from './access-note.js'
import { imageIdFor, initCornerstone, registerSource } from './cornerstone.js'
import { type DecryptProgress, DecryptQueue } from './decrypt-queue.js'
import { markPhase, measureFromOpen } from './marks.js'
import { MetadataPanel } from './metadata-panel.js'
import { presetsFor, voiRange } from './presets.js'
import { readFileBytes, saveBytes } from './read-file.js'
import { seriesLabel, seriesOf, type ViewerSeries } from './series.js'

type Tool = 'wl' | 'zoom' | 'pan'
const TOOL_NAMES: Record<Tool, string> = {
  wl: WindowLevelTool.toolName,
  zoom: ZoomTool.toolName,
  pan: PanTool.toolName,
}
const CONCURRENCY = 4
let instanceSeq = 0

type Viewer = {
  engine: RenderingEngine
  viewport: Types.IStackViewport
  prefix: string
  queue: DecryptQueue
  toolGroupId: string
}

/** The image viewer: a Cornerstone3D stack of the record's decrypted instances, series by series. */
export default function DicomViewer(props: { record: OpenedRecord }) {
  const { client } = useSession()
  const { record } = props
  const series = useMemo(() => seriesOf(record.manifest), [record])
  const elementRef = useRef<HTMLDivElement>(null)
  const viewerRef = useRef<Viewer | undefined>(undefined)
  const [ready, setReady] = useState(false)
  const [failure, setFailure] = useState<unknown>()
  const [seriesIndex, setSeriesIndex] = useState(0)
  const [imageIndex, setImageIndex] = useState(0)
  const [progress, setProgress] = useState<DecryptProgress>({
    done: 0,
    failed: 0,
    total: record.manifest.files.length,
    bytes: 0,
  })
  const [firstShown, setFirstShown] = useState(false)
  const [tool, setTool] = useState<Tool>('wl')
  const [playing, setPlaying] = useState(false)
  const [fps, setFps] = useState(15)
  const [window_, setWindow] = useState<{ width: number; center: number } | undefined>()
  const [preset, setPreset] = useState('file')
  const [showDetails, setShowDetails] = useState(false)
  const [busy, setBusy] = useState<string | undefined>()
  const [note, setNote] = useState<string | undefined>()
  const [undecodable, setUndecodable] = useState(0)

  const current: ViewerSeries | undefined = series[seriesIndex]
  const total = current?.images.length ?? 0
  const imageIdsOf = useCallback(
    (s: ViewerSeries, prefix: string) =>
      s.images.map((image) => imageIdFor(prefix, s.instances[image.instance]!.fileIndex, image.frame)),
    [],
  )

  // Set up Cornerstone, the decryption queue and the first stack once per opened record.
  useEffect(() => {
    const element = elementRef.current
    if (!element || series.length === 0) return
    markPhase('pcmims:image-viewer')
    let disposed = false
    const id = ++instanceSeq
    const files = record.manifest.files
    const firstSeries = series[0]!
    const firstFile = firstSeries.instances[0]!.fileIndex
    const queue = new DecryptQueue({
      count: files.length,
      // The first image alone: it does not share the node, the network and the main thread with others.
      concurrency: 1,
      read: async (index, signal) => {
        const bytes = await readFileBytes(client, record, files[index]!, signal)
        if (index === firstFile) markPhase('pcmims:first-file-decrypted')
        return bytes
      },
      onProgress: (p) => {
        if (!disposed) setProgress(p)
      },
    })
    // Screen first, then each series' first image (thumbnails), then the rest of the first series. The
    // first file is fetched and decrypted while Cornerstone starts, not after.
    queue.prioritise([
      firstFile,
      ...series.map((s) => s.instances[0]!.fileIndex),
      ...firstSeries.instances.map((i) => i.fileIndex),
      ...series.flatMap((s) => s.instances.map((i) => i.fileIndex)),
      ...files.map((_, index) => index),
    ])
    const source = registerSource((index) => queue.get(index))
    let engine: RenderingEngine | undefined
    const toolGroupId = `pcmims-tools-${id}`
    const cleanups: Array<() => void> = []

    ;(async () => {
      await initCornerstone()
      markPhase('pcmims:cornerstone-ready')
      if (disposed) return

      engine = new RenderingEngine(`pcmims-viewer-${id}`)
      const viewportId = `pcmims-stack-${id}`
      engine.enableElement({ viewportId, type: CoreEnums.ViewportType.STACK, element })
      const viewport = engine.getViewport(viewportId) as Types.IStackViewport
      const toolGroup = ToolGroupManager.createToolGroup(toolGroupId)
      if (toolGroup) {
        for (const name of Object.values(TOOL_NAMES)) toolGroup.addTool(name)
        toolGroup.addTool(StackScrollTool.toolName)
        toolGroup.addViewport(viewportId, engine.id)
        toolGroup.setToolActive(StackScrollTool.toolName, {
          bindings: [{ mouseButton: ToolEnums.MouseBindings.Wheel }],
        })
        toolGroup.setToolActive(WindowLevelTool.toolName, {
          bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }],
        })
        toolGroup.setToolActive(ZoomTool.toolName, {
          bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }],
        })
        toolGroup.setToolActive(PanTool.toolName, {
          bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }],
        })
      }
      viewerRef.current = { engine, viewport, prefix: source.prefix, queue, toolGroupId }

      const onNewImage = () => {
        setImageIndex(viewport.getCurrentImageIdIndex())
        // A new series starts from its own window, without a VOI event.
        const range = viewport.getProperties().voiRange
        if (range) setWindow({ width: range.upper - range.lower, center: (range.upper + range.lower) / 2 })
      }
      const onVoi = (event: Event) => {
        const range = (event as CustomEvent<{ range?: { lower: number; upper: number } }>).detail.range
        if (range) setWindow({ width: range.upper - range.lower, center: (range.upper + range.lower) / 2 })
      }
      let marked = false
      let stackSet = false
      const onRendered = () => {
        // Only once the first image is loaded: earlier renders draw an empty viewport.
        if (marked || !stackSet) return
        marked = true
        markPhase('pcmims:first-image')
        measureFromOpen('pcmims:open-to-first-image', 'pcmims:first-image')
        setFirstShown(true)
      }
      const failed = new Set<string>()
      const onLoadFailed = (event: Event) => {
        const imageId = (event as CustomEvent<{ imageId?: string }>).detail.imageId
        if (!imageId?.startsWith(source.prefix) || failed.has(imageId)) return
        failed.add(imageId)
        setUndecodable(failed.size)
      }
      eventTarget.addEventListener(CoreEnums.Events.IMAGE_LOAD_FAILED, onLoadFailed)
      cleanups.push(() => eventTarget.removeEventListener(CoreEnums.Events.IMAGE_LOAD_FAILED, onLoadFailed))
      element.addEventListener(CoreEnums.Events.STACK_NEW_IMAGE, onNewImage)
      element.addEventListener(CoreEnums.Events.VOI_MODIFIED, onVoi)
      element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, onRendered)
      cleanups.push(() => {
        element.removeEventListener(CoreEnums.Events.STACK_NEW_IMAGE, onNewImage)
        element.removeEventListener(CoreEnums.Events.VOI_MODIFIED, onVoi)
        element.removeEventListener(CoreEnums.Events.IMAGE_RENDERED, onRendered)
      })
      const resize = new ResizeObserver(() => engine?.resize(true, true))
      resize.observe(element)
      cleanups.push(() => resize.disconnect())

      setReady(true)
      try {
        await viewport.setStack(imageIdsOf(firstSeries, source.prefix), 0)
      } finally {
        // The first image is in (or failed): the rest now several at a time.
        queue.setConcurrency(CONCURRENCY)
      }
      if (disposed) return
      markPhase('pcmims:first-image-loaded')
      stackSet = true
      viewport.render()

      // Every image into Cornerstone's cache as soon as it is decrypted, so scrolling never waits. The
      // queue keeps its order: asking for every image at once would move each ahead of the one before.
      const all = series.flatMap((s) =>
        s.images.map((image) => {
          const fileIndex = s.instances[image.instance]!.fileIndex
          return { fileIndex, imageId: imageIdFor(source.prefix, fileIndex, image.frame) }
        }),
      )
      await Promise.allSettled(
        all.map(async ({ fileIndex, imageId }) => {
          await queue.whenDone(fileIndex)
          if (!disposed) await imageLoader.loadAndCacheImage(imageId)
        }),
      )
      if (disposed) return
      markPhase('pcmims:all-images')
      measureFromOpen('pcmims:open-to-all-images', 'pcmims:all-images')
    })().catch((error: unknown) => {
      if (!disposed) setFailure(error)
    })

    return () => {
      disposed = true
      for (const cleanup of cleanups) cleanup()
      try {
        toolUtilities.cine.stopClip(element)
      } catch {
        // No clip was playing.
      }
      ToolGroupManager.destroyToolGroup(toolGroupId)
      engine?.destroy()
      queue.close()
      source.unregister()
      viewerRef.current = undefined
    }
  }, [client, record, series, imageIdsOf])

  const withViewport = (action: (viewer: Viewer) => void) => {
    const viewer = viewerRef.current
    if (viewer) action(viewer)
  }

  const selectSeries = (index: number) => {
    const next = series[index]
    if (!next || index === seriesIndex) return
    stopCine()
    setSeriesIndex(index)
    setImageIndex(0)
    setPreset('file')
    withViewport(({ viewport, prefix, queue }) => {
      queue.prioritise(next.instances.map((i) => i.fileIndex))
      void viewport.setStack(imageIdsOf(next, prefix), 0).catch((error: unknown) => setFailure(error))
    })
  }

  const goTo = (index: number) =>
    withViewport(({ viewport }) => {
      const clamped = Math.max(0, Math.min(total - 1, index))
      void viewport.setImageIdIndex(clamped)
    })

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const steps: Record<string, number> = {
      ArrowUp: -1,
      ArrowLeft: -1,
      ArrowDown: 1,
      ArrowRight: 1,
      PageUp: -10,
      PageDown: 10,
    }
    const step = steps[event.key]
    if (step !== undefined) {
      event.preventDefault()
      goTo(imageIndex + step)
    } else if (event.key === 'Home') {
      event.preventDefault()
      goTo(0)
    } else if (event.key === 'End') {
      event.preventDefault()
      goTo(total - 1)
    } else if (event.key === '+' || event.key === '=') {
      zoomBy(1.25)
    } else if (event.key === '-') {
      zoomBy(0.8)
    }
  }

  const chooseTool = (next: Tool) => {
    setTool(next)
    withViewport(({ toolGroupId }) => {
      const group = ToolGroupManager.getToolGroup(toolGroupId)
      if (!group) return
      // The left button does the chosen job; the right button zooms and the middle one pans.
      group.setToolActive(TOOL_NAMES[next], {
        bindings: [
          { mouseButton: ToolEnums.MouseBindings.Primary },
          ...(next === 'zoom' ? [{ mouseButton: ToolEnums.MouseBindings.Secondary }] : []),
          ...(next === 'pan' ? [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] : []),
        ],
      })
      for (const other of Object.keys(TOOL_NAMES) as Tool[]) {
        if (other === next) continue
        const binding =
          other === 'zoom'
            ? ToolEnums.MouseBindings.Secondary
            : other === 'pan'
              ? ToolEnums.MouseBindings.Auxiliary
              : undefined
        if (binding) group.setToolActive(TOOL_NAMES[other], { bindings: [{ mouseButton: binding }] })
        else group.setToolPassive(TOOL_NAMES[other])
      }
    })
  }

  const zoomBy = (factor: number) =>
    withViewport(({ viewport }) => {
      viewport.setZoom(viewport.getZoom() * factor)
      viewport.render()
    })

  const applyPreset = (id: string) => {
    setPreset(id)
    withViewport(({ viewport }) => {
      const chosen = presetsFor(current?.modality).find((p) => p.id === id)
      if (chosen) viewport.setProperties({ voiRange: voiRange(chosen.width, chosen.center) })
      else viewport.resetProperties()
      viewport.render()
    })
  }

  const reset = () =>
    withViewport(({ viewport }) => {
      setPreset('file')
      viewport.resetCamera()
      viewport.resetProperties()
      viewport.render()
    })

  const stopCine = () => {
    if (!playing) return
    setPlaying(false)
    const element = elementRef.current
    if (element) toolUtilities.cine.stopClip(element)
  }

  const toggleCine = () => {
    const element = elementRef.current
    if (!element) return
    if (playing) {
      stopCine()
    } else {
      setPlaying(true)
      toolUtilities.cine.playClip(element, { framesPerSecond: fps, loop: true })
    }
  }

  const changeFps = (value: number) => {
    const next = Math.max(1, Math.min(60, Number.isFinite(value) ? value : 15))
    setFps(next)
    const element = elementRef.current
    if (playing && element) {
      toolUtilities.cine.stopClip(element)
      toolUtilities.cine.playClip(element, { framesPerSecond: next, loop: true })
    }
  }

  const currentInstance = current?.instances[current.images[imageIndex]?.instance ?? 0]

  const downloadImage = async () => {
    const viewer = viewerRef.current
    if (!viewer || !currentInstance) return
    setBusy('Preparing the image…')
    try {
      const bytes = await viewer.queue.get(currentInstance.fileIndex)
      saveBytes(bytes, baseName(currentInstance.file.path), 'application/dicom')
      setNote('Image downloaded (original DICOM).')
    } catch (error) {
      setNote(`Download failed: ${describeError(error).title}`)
    } finally {
      setBusy(undefined)
    }
  }

  const downloadStudy = async () => {
    const viewer = viewerRef.current
    if (!viewer) return
    setBusy('Decrypting every file for the ZIP…')
    try {
      const files = record.manifest.files
      viewer.queue.prioritise(files.map((_, index) => index))
      const entries: Record<string, [Uint8Array, { level: 0 }]> = {}
      for (const [index, file] of files.entries()) {
        // Already compressed or not worth it: DICOM pixel data zips poorly and slowly in a browser.
        entries[file.path] = [await viewer.queue.get(index), { level: 0 }]
      }
      saveBytes(zipSync(entries), `study-${record.manifest.date.slice(0, 10)}.zip`, 'application/zip')
      setNote(`Study downloaded: ${files.length} files in one ZIP.`)
    } catch (error) {
      setNote(`Download failed: ${describeError(error).title}`)
    } finally {
      setBusy(undefined)
    }
  }

  if (series.length === 0) return <p className="viewer-empty">This record has no images to show.</p>

  const presets = presetsFor(current?.modality)
  const decrypting = progress.done + progress.failed < progress.total

  return (
    <div className="dicom-viewer">
      <div className="viewer-toolbar" role="toolbar" aria-label="Image tools">
        <fieldset className="viewer-group">
          <legend>Mouse</legend>
          {(
            [
              ['wl', 'Window/level'],
              ['zoom', 'Zoom'],
              ['pan', 'Pan'],
            ] as const
          ).map(([id, label]) => (
            <button key={id} type="button" aria-pressed={tool === id} onClick={() => chooseTool(id)}>
              {label}
            </button>
          ))}
        </fieldset>
        <div className="viewer-group">
          <label htmlFor="viewer-preset">Window</label>
          <select id="viewer-preset" value={preset} onChange={(event) => applyPreset(event.target.value)}>
            <option value="file">From the file</option>
            {presets.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label} (W {p.width} / L {p.center})
              </option>
            ))}
          </select>
        </div>
        <div className="viewer-group">
          <button type="button" onClick={() => zoomBy(1.25)} aria-label="Zoom in">
            +
          </button>
          <button type="button" onClick={() => zoomBy(0.8)} aria-label="Zoom out">
            −
          </button>
          <button type="button" onClick={reset}>
            Reset
          </button>
        </div>
        {total > 1 ? (
          <div className="viewer-group">
            <button type="button" onClick={toggleCine} aria-pressed={playing}>
              {playing ? 'Pause' : 'Play'}
            </button>
            <label htmlFor="viewer-fps" className="inline-label">
              Frames per second
            </label>
            <input
              id="viewer-fps"
              type="number"
              min={1}
              max={60}
              value={fps}
              onChange={(event) => changeFps(event.target.valueAsNumber)}
            />
          </div>
        ) : null}
        <div className="viewer-group">
          <button type="button" aria-expanded={showDetails} onClick={() => setShowDetails((v) => !v)}>
            {showDetails ? 'Hide details' : 'Show details'}
          </button>
        </div>
      </div>

      <div className={`viewer-body${showDetails ? ' with-details' : ''}`}>
        {series.length > 1 ? (
          <nav className="viewer-series" aria-label="Series">
            <ul>
              {series.map((s, index) => (
                <li key={s.key}>
                  <SeriesThumbnail
                    series={s}
                    label={seriesLabel(s, index)}
                    selected={index === seriesIndex}
                    ready={firstShown}
                    imageId={viewerRef.current ? imageIdsOf(s, viewerRef.current.prefix)[0] : undefined}
                    onSelect={() => selectSeries(index)}
                  />
                </li>
              ))}
            </ul>
          </nav>
        ) : null}

        <div className="viewer-stage">
          {/* The image is a slider through the stack for the keyboard: arrows, Page Up/Down, Home, End. */}
          <div
            className="viewer-canvas"
            tabIndex={0}
            role="slider"
            aria-label={`Images of ${current ? seriesLabel(current, seriesIndex) : 'the series'}`}
            aria-valuemin={1}
            aria-valuemax={Math.max(1, total)}
            aria-valuenow={imageIndex + 1}
            aria-valuetext={`Image ${imageIndex + 1} of ${total}`}
            aria-keyshortcuts="ArrowUp ArrowDown PageUp PageDown Home End + -"
            onKeyDown={onKeyDown}
            onContextMenu={(event) => event.preventDefault()}
          >
            <div ref={elementRef} className="viewer-element" />
          </div>
          {!firstShown && !failure ? (
            <div className="viewer-overlay-state" role="status">
              <span className="spinner" aria-hidden="true" />
              {ready ? 'Decrypting the first image…' : 'Starting the viewer…'}
            </div>
          ) : null}
          <p className="viewer-counter" aria-hidden="true">
            <span>
              {imageIndex + 1} / {total}
            </span>
            {window_ ? (
              <span className="viewer-wl">
                W {Math.round(window_.width)} L {Math.round(window_.center)}
              </span>
            ) : null}
          </p>
        </div>

        {showDetails ? (
          <MetadataPanel
            manifest={record.manifest}
            series={current}
            instance={currentInstance}
            frame={current?.images[imageIndex]?.frame}
          />
        ) : null}
      </div>

      <div className="viewer-footer">
        {total > 1 ? (
          <div className="viewer-slider">
            <button type="button" onClick={() => goTo(imageIndex - 1)} aria-label="Previous image">
              ‹
            </button>
            <label htmlFor="viewer-position" className="visually-hidden">
              Image position
            </label>
            <input
              id="viewer-position"
              type="range"
              min={1}
              max={total}
              value={imageIndex + 1}
              onChange={(event) => goTo(event.target.valueAsNumber - 1)}
            />
            <button type="button" onClick={() => goTo(imageIndex + 1)} aria-label="Next image">
              ›
            </button>
          </div>
        ) : null}
        <div className="viewer-progress">
          {decrypting ? (
            <>
              <progress
                className="progress"
                max={progress.total}
                value={progress.done}
                aria-label="Images decrypted"
              />
              <span>
                Decrypting in your browser: {progress.done} / {progress.total} files (
                {formatBytes(progress.bytes)})
              </span>
            </>
          ) : (
            <span role="status">
              {progress.total === 1 ? 'The file is' : `All ${progress.total} files`} decrypted in your browser
              ({formatBytes(progress.bytes)}).
            </span>
          )}
          {progress.failed > 0 ? (
            <span className="danger-note" role="alert">
              {progress.failed} {progress.failed === 1 ? 'file' : 'files'} could not be decrypted or failed
              the integrity check.
            </span>
          ) : null}
        </div>
        {undecodable > 0 ? (
          <div className="warning" role="alert">
            {undecodable} {undecodable === 1 ? 'image' : 'images'} could not be decoded (damaged or
            unsupported compression); the others are shown.
          </div>
        ) : null}
        {failure ? (
          <div className="danger-note" role="alert">
            The image could not be shown: {describeError(failure).title}
          </div>
        ) : null}
        <DownloadNote
          access={record.access}
          busy={busy}
          note={note}
          actions={[
            { label: 'Download image (DICOM)', run: downloadImage },
            { label: 'Download study (ZIP)', run: downloadStudy },
          ]}
        />
      </div>
    </div>
  )
}

function SeriesThumbnail(props: {
  series: ViewerSeries
  label: string
  selected: boolean
  ready: boolean
  imageId: string | undefined
  onSelect: () => void
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const { imageId, ready } = props
  useEffect(() => {
    const canvas = canvasRef.current
    // Thumbnails wait for the main image, so they never delay it.
    if (!canvas || !imageId || !ready) return
    void coreUtilities.loadImageToCanvas({ canvas, imageId, thumbnail: true }).catch(() => undefined)
  }, [imageId, ready])
  return (
    <button type="button" className="series-thumb" aria-pressed={props.selected} onClick={props.onSelect}>
      <canvas ref={canvasRef} width={96} height={96} />
      <span>{props.label}</span>
      <span className="hint">
        {props.series.images.length} {props.series.images.length === 1 ? 'image' : 'images'}
      </span>
    </button>
  )
}

function baseName(path: string): string {
  return path.split('/').pop() || 'image.dcm'
}
