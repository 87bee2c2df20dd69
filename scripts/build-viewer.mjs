// Builds the browser viewer: lib/viewer/page.ts (+ viewer.ts) bundled into dist/viewer/viewer.js (the
// daemon's page script), lib/viewer/index.ts into dist/viewer/module.js (`node-webrtcbin/viewer`, for
// page authors), and lib/viewer/index.html copied next to them. The declarations in dist/viewer/types/
// come from `tsc -p lib/viewer/tsconfig.json`. `node scripts/build-viewer.mjs [--test]`, or import
// { buildViewer, bundleViewerScript }.
//
// Test hooks (window.__viewer*) exist only in a test build: `__VIEWER_TEST_HOOKS__` is defined true
// there and false otherwise, and minifySyntax drops the branches it guards from the production files.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild options shared by every viewer bundle. */
function bundleOptions(entry, { test = false, minify = false, sourcemap = 'inline' } = {}) {
  return {
    absWorkingDir: root,
    entryPoints: [path.join(root, 'lib', 'viewer', entry)],
    tsconfig: path.join(root, 'lib', 'viewer', 'tsconfig.json'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    define: { __VIEWER_TEST_HOOKS__: test ? 'true' : 'false' },
    minify,
    minifySyntax: true,
    sourcemap,
    // Production maps point at lib/viewer/ without carrying its text (test-hook names live in comments there).
    sourcesContent: test,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/**
 * A viewer bundle as text, without writing it: the page script by default (what tests serve in place of
 * /viewer.js with `test: true`), or `entry: 'index.ts'` for the page authors' module.
 * @param {{ test?: boolean, entry?: 'page.ts' | 'index.ts' }} [options]
 * @returns {Promise<string>}
 */
export async function bundleViewerScript(options = {}) {
  const entry = options.entry ?? 'page.ts';
  const outfile = path.join(root, 'dist', 'viewer', entry === 'page.ts' ? 'viewer.js' : 'module.js');
  const result = await build({ ...bundleOptions(entry, { test: options.test }), write: false, outfile });
  const file = result.outputFiles?.[0];
  if (!file) throw new Error('esbuild produced no viewer script');
  return file.text;
}

/**
 * @param {{ outdir?: string, minify?: boolean, sourcemap?: boolean | 'inline', test?: boolean }} [options]
 * @returns {Promise<{ outdir: string, files: string[] }>}
 */
export async function buildViewer(options = {}) {
  const outdir = path.resolve(options.outdir ?? path.join(root, 'dist', 'viewer'));
  await mkdir(outdir, { recursive: true });
  const script = path.join(outdir, 'viewer.js');
  const module = path.join(outdir, 'module.js');
  const html = path.join(outdir, 'index.html');
  await build({ ...bundleOptions('page.ts', options), outfile: script });
  await build({ ...bundleOptions('index.ts', { ...options, test: false }), outfile: module });
  await copyFile(path.join(root, 'lib', 'viewer', 'index.html'), html);
  return { outdir, files: [html, script, module] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const test = process.argv.includes('--test');
    const { files } = await buildViewer(test ? { test, outdir: path.join(root, 'dist', 'viewer-test') } : {});
    for (const f of files) console.log(`built ${path.relative(root, f)}${test ? ' (test hooks)' : ''}`);
  } catch (e) {
    // esbuild has already printed the errors
    if (!(e && typeof e === 'object' && 'errors' in e)) console.error(e);
    process.exitCode = 1;
  }
}
