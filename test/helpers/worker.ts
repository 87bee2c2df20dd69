// Starts a worker thread on a TypeScript module: a worker does not inherit the parent's `--import tsx`
// loader, so a small evaluated entry registers tsx in the worker first, then imports the module.
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function tsWorker(module: URL, options: WorkerOptions = {}): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(entry, { ...options, eval: true });
}

/** Resolves with the worker's exit code; rejects on an uncaught error in it. */
export function workerExit(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
}
