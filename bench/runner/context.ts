// What every scenario is handed: the options, the tools, the CPU pinning, a temp dir, the results
// being filled, a way to register cleanups, and the fleet of servers the runner started.
import type { Tools } from '../lib/install';
import type { Pinning } from '../lib/tools';
import type { Fleet } from './fleet';
import type { Options } from './options';
import type { Results, Target } from './results';

export interface BenchContext {
  readonly opts: Options;
  readonly tools: Tools;
  readonly pin: Pinning;
  readonly dir: string;
  readonly results: Results;
  readonly fleet: Fleet;
  /** Runs at the end (in reverse order), also after a failure or Ctrl-C. */
  defer(cleanup: () => Promise<void>): void;
}

/** A scenario's contribution to the report: its table lines and its targets (measured, not asserted). */
export interface ScenarioReport {
  section(r: Results): string[];
  targets?(r: Results): Record<string, Target>;
}
