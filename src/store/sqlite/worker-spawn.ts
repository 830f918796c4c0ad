import { Worker } from 'node:worker_threads';

/**
 * Starts one of the store's worker threads (`stem` is its file name without extension). Built code runs
 * the compiled file. From TypeScript sources (tests, `tsx src/main.ts`) the worker registers tsx through
 * its API before importing the entry: on Node 20 hooks registered by a worker's `--import` are not
 * applied to the worker's own entry module.
 */
export function spawnStoreWorker(stem: 'writer-worker' | 'checkpoint-worker', workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL(`./${stem}.js`, import.meta.url), { workerData });
  }
  const entry = JSON.stringify(new URL(`./${stem}.ts`, import.meta.url).href);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
