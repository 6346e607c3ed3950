// The web panel (apps/panel) is a single-page app built to static files: served at /, with every
// other non-API GET answered by its index.html so the panel's own routes survive a reload.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, Router } from 'express';

const NOT_BUILT =
  'The Karvon web panel has not been built.\n\n' +
  'Run `npm run build` in the Karvon checkout (it builds apps/panel into apps/panel/dist) and reload this page.\n' +
  'The API is available at /api/v1 (document: /api/v1/openapi.json).\n';

/** apps/panel/dist: through the workspace package, else next to this module (source or bundle). */
export function findPanelDir(): string | undefined {
  const candidates: string[] = [];
  try {
    const pkg = createRequire(import.meta.url).resolve('@karvon/panel/package.json');
    candidates.push(path.join(path.dirname(pkg), 'dist'));
  } catch {
    // not installed as a workspace package
  }
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    candidates.push(path.join(dir, 'panel', 'dist'), path.join(dir, 'apps', 'panel', 'dist'));
    dir = path.dirname(dir);
  }
  return candidates.find((c) => existsSync(path.join(c, 'index.html')));
}

// Not the panel's: the API, git hooks, and agent downloads (a script piped to bash must never get HTML).
const API_PREFIXES = ['/api/', '/hooks/', '/agent/'];

export function panelRoutes(panelDir: string | undefined = findPanelDir()): Router {
  const router = Router();
  let dir = panelDir;
  let assets: RequestHandler | undefined;
  const serveStatic = (): RequestHandler | undefined => {
    // Built after the control plane started (development): look again.
    dir ??= findPanelDir();
    if (dir && !assets) {
      assets = express.static(dir, {
        index: false,
        fallthrough: true,
        setHeaders(res, file) {
          // Vite puts a content hash in every asset's name.
          if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        },
      });
    }
    return assets;
  };

  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PREFIXES.some((p) => req.path.startsWith(p) || req.path === p.slice(0, -1))) {
      return next();
    }
    const handler = serveStatic();
    if (!handler || !dir) {
      res.status(503).type('text/plain').send(NOT_BUILT);
      return;
    }
    const root = dir;
    handler(req, res, () => {
      // A missing file (an asset, anything with an extension) is a 404, not the app: the panel's
      // own paths have no dots in their last segment.
      if (req.path.startsWith('/assets/') || /\.[^/]*$/.test(req.path)) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(root, 'index.html'), (err) => {
        if (err) next(err);
      });
    });
  });
  return router;
}
