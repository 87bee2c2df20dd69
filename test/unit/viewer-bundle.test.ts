// The viewer's browser bundles: the production page script and the page authors' module carry no test
// hooks (window.__viewer*) and none of TypeBox (the viewer takes only the protocol's types); the test
// build does carry the hooks. Built in memory from lib/viewer/ with scripts/build-viewer.mjs.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
type Build = { bundleViewerScript(options?: { test?: boolean; entry?: 'page.ts' | 'index.ts' }): Promise<string> };
const { bundleViewerScript } = (await import(path.join(root, 'scripts', 'build-viewer.mjs'))) as Build;

// TypeBox's own names: its package, its compiler, its Kind symbol.
const TYPEBOX = /typebox|TypeCompiler|TypeBox\.Kind|\[Kind\]/i;

t.test('the production page script has no test hooks and no TypeBox', async (t) => {
  const script = await bundleViewerScript();
  t.notMatch(script, /__viewer/, 'no window.__viewer*');
  t.notMatch(script, TYPEBOX, 'no TypeBox');
  t.notMatch(script, /__VIEWER_TEST_HOOKS__/, 'the flag itself is defined away');
  t.match(script, /65536|65_536/, 'the clipboard limit is in (from lib/input/limits.ts)');
});

t.test("the page authors' module has no test hooks and no TypeBox", async (t) => {
  const module = await bundleViewerScript({ entry: 'index.ts' });
  t.notMatch(module, /__viewer/);
  t.notMatch(module, TYPEBOX);
  t.match(module, /Viewer = class extends EventTarget|class Viewer extends EventTarget/, 'the Viewer class is in');
});

t.test('the test build has the hooks the browser tests read', async (t) => {
  const script = await bundleViewerScript({ test: true });
  for (const hook of ['__viewerState', '__viewerStats', '__viewerClipboard', '__viewerResize', '__viewerExtras', '__viewerFallback', '__viewerAudio']) {
    t.match(script, new RegExp(`${hook}\\b`), hook);
  }
});

t.test('dist/viewer, when built, is the production build', { skip: !existsSync(path.join(root, 'dist', 'viewer', 'viewer.js')) && 'dist/viewer is not built' }, async (t) => {
  for (const file of ['viewer.js', 'module.js']) {
    const text = readFileSync(path.join(root, 'dist', 'viewer', file), 'utf8');
    t.notMatch(text, /__viewer/, `${file}: no test hooks`);
    t.notMatch(text, TYPEBOX, `${file}: no TypeBox`);
  }
});
