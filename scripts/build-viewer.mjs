// Builds the browser viewer: lib/viewer/page.ts (+ viewer.ts) bundled into dist/viewer/viewer.js, and
// lib/viewer/index.html copied next to it. `node scripts/build-viewer.mjs`, or import { buildViewer }.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ outdir?: string, minify?: boolean, sourcemap?: boolean | 'inline' }} [options]
 * @returns {Promise<{ outdir: string, files: string[] }>}
 */
export async function buildViewer(options = {}) {
  const outdir = path.resolve(options.outdir ?? path.join(root, 'dist', 'viewer'));
  await mkdir(outdir, { recursive: true });
  const script = path.join(outdir, 'viewer.js');
  const html = path.join(outdir, 'index.html');
  await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'lib', 'viewer', 'page.ts')],
    tsconfig: path.join(root, 'lib', 'viewer', 'tsconfig.json'),
    outfile: script,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: options.minify ?? false,
    sourcemap: options.sourcemap ?? 'inline',
    legalComments: 'none',
    logLevel: 'warning',
  });
  await copyFile(path.join(root, 'lib', 'viewer', 'index.html'), html);
  return { outdir, files: [html, script] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { files } = await buildViewer();
    for (const f of files) console.log(`built ${path.relative(root, f)}`);
  } catch (e) {
    // esbuild has already printed the errors
    if (!(e && typeof e === 'object' && 'errors' in e)) console.error(e);
    process.exitCode = 1;
  }
}
