// --workers 1 (the default): one process does everything.
import { preflight } from '../daemon/preflight';
import type { Settings } from '../settings/types';
import { assembleDaemon } from './daemon';

export async function runSingleProcess(settings: Settings): Promise<void> {
  const { trusted, config, geo } = await preflight(settings);
  const { daemon } = assembleDaemon(settings, trusted, geo);
  await daemon.start(config);
}
