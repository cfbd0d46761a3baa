// --workers > 1: the primary process (admin, reloads, the one CrowdSec bouncer) or one of its workers.
import cluster from 'node:cluster';
import type { Settings } from '../settings/types';

export async function runCluster(settings: Settings): Promise<void> {
  if (cluster.isWorker) {
    const { runWorker } = await import('./worker');
    return runWorker(settings);
  }
  const { runPrimary } = await import('./primary');
  return runPrimary(settings);
}
