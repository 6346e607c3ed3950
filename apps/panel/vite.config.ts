import { defineConfig } from 'vite';

// `npm run dev -w @karvon/panel` serves the panel with hot reload and forwards the API to a control
// plane on 127.0.0.1:8080 (`npm start`). The production build is made by scripts/build.mjs.
export default defineConfig(({ command }) => ({
  base: '/',
  // Production JSX for builds even when NODE_ENV is not 'production' (the test setup builds it).
  oxc: { jsx: { runtime: 'automatic', development: command === 'serve' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Helmet's CSP allows only same-origin scripts: no inlined module preload polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
}));
