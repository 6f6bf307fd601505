import { defineConfig } from 'vite';

// No React plugin: esbuild compiles JSX with the automatic runtime, which is
// all this app needs (no fast refresh).
export default defineConfig({
  root: import.meta.dirname,
  esbuild: { jsx: 'automatic' },
  server: { host: '127.0.0.1', strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true },
});
