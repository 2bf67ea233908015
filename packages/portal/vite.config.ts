import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const require = createRequire(import.meta.url)

/**
 * pdf.js fetches its standard fonts, image codecs (WebAssembly), ICC profiles and CMaps at run time by
 * URL; they are copied into the build under `/pdfjs/` so the portal never reaches for a CDN.
 */
function pdfjsAssets(): Plugin {
  const root = dirname(require.resolve('pdfjs-dist/package.json'))
  const folders = ['standard_fonts', 'wasm', 'iccs', 'cmaps']
  return {
    name: 'pcmims-pdfjs-assets',
    apply: 'build',
    generateBundle() {
      for (const folder of folders) {
        for (const name of readdirSync(join(root, folder))) {
          if (name.startsWith('LICENSE') || name.endsWith('.js')) continue
          this.emitFile({
            type: 'asset',
            fileName: `pdfjs/${folder}/${name}`,
            source: readFileSync(join(root, folder, name)),
          })
        }
      }
    },
  }
}

// The node serves the production build (`dist`) at `/`; `npm run dev` proxies the API to a running node.
export default defineConfig({
  plugins: [react(), pdfjsAssets()],
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
  // Cornerstone's image loader starts its decoder worker with `new URL(..., import.meta.url)`, which
  // the dev server's dependency pre-bundling would break.
  optimizeDeps: { exclude: ['@cornerstonejs/dicom-image-loader'] },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': process.env.PCMIMS_NODE_URL ?? 'http://127.0.0.1:8480' },
  },
})
