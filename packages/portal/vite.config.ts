import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The node serves the production build (`dist`) at `/`; `npm run dev` proxies the API to a running node.
export default defineConfig({
  plugins: [react()],
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': process.env.PCMIMS_NODE_URL ?? 'http://127.0.0.1:8480' },
  },
})
