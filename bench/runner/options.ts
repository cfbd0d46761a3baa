// Command-line options of the benchmark runner (npm run bench -- ...).
import type { PinMode } from '../lib/tools';

export interface Options {
  quick: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  latencyS: number;
  initialWarmS: number;
  abPairs: number;
  abS: number;
  connections: number;
  threads: number;
  pin: PinMode;
  decisions: number;
  lapiDecisions: number;
  realLapi: boolean;
  http: boolean;
  tcp: boolean;
  https: boolean;
  /** scenarios/h2.ts: h2load, HTTP/2 vs HTTP/1.1, nginx vs netbird-proxy. */
  h2: boolean;
  scaling: boolean;
  bulkBytes: number;
  echoConns: number;
  profile: boolean;
  profileS: number;
  store: boolean;
  path: boolean;
  /** scenarios/appsec.ts; --only-appsec runs it alone (after the fleet starts). */
  appsec: boolean;
  onlyAppsec: boolean;
  /** scenarios/features.ts: per-feature cost table; --features runs it alone (with the enforce daemon and h2, path). */
  features: boolean;
  onlyFeatures: boolean;
  /** --baseline <dir>: another checkout (built) whose daemon the features scenario measures too. */
  baseline: string | undefined;
  /** scenarios/tail.ts: wrk -c1 rounds under --trace-gc, default young generation vs tailSemiSpaceMb; --tail runs it alone. */
  tail: boolean;
  onlyTail: boolean;
  tailS: number;
  tailSemiSpaceMb: number;
  /** --feature-rows a,b: only these rows of the features table (bare, plain and plain_again always). */
  featureRows: string[] | undefined;
  /** --compare <results.json>: print each ratio next to that run's (runner/compare.ts). */
  compare: string | undefined;
  save: boolean;
  keep: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --quick              1 round, 2 s per measurement, 256 MiB bulk (smoke run, ~2 min)
  --rounds N           interleaved rounds (default 3)
  --duration S         seconds per measured wrk run (default 5)
  --warmup S           seconds of wrk warm-up before each measured run (default 2; and one
                       unrecorded 3 s run per variant before round 1, for the JIT)
  --connections N      wrk connections (default 50); --threads N wrk threads (default 1)
  --decisions N        decisions served by the fake LAPI and held by the path micro-benchmark
                       (default 1000000)
  --lapi-decisions N   decisions imported into the real LAPI (default 100000); --no-lapi skips it
  --pin MODE           strict (default): server under test alone on CPU 0, everything else on CPU 1;
                       server: server on CPU 0, the rest unpinned; none (= --no-pin): no taskset
  --ab-pairs N         alternating enforce/off pairs of 3 s runs for the enforce cost (default 5; 0 skips)
  --no-http --no-tcp --no-https --no-h2 --no-profile --no-store --no-path --no-scaling --no-appsec   skip those parts
  --only-appsec        run the AppSec scenario alone (with the shared servers)
  --features           the per-feature cost table alone (plus the 1M enforce daemon, h2 and path
                       it reads); --no-features skips it in a full run
  --feature-rows LIST  features: only these rows (comma-separated keys; bare, plain and plain_again always run)
  --baseline DIR       features: also measure the plain service on the build in DIR (a checkout
                       with npm run build done), to measure a change in one run
  --tail               the tail scenario alone: wrk -c1 rounds under --trace-gc (--no-tail skips it)
  --tail-seconds S     seconds per -c1 run in the tail scenario (default 10; 4 with --quick)
  --tail-semi-space MB the second tail daemon's semi-space, fixed (min = max; default 16, V8's maximum)
  --compare FILE       print each ratio next to FILE's (a committed run) and flag drops beyond the noise
  --save               also write bench/results/YYYY-MM-DD.json (the committed copy)
  --keep               keep the temp dir (configs, logs, profile)`;

export function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    rounds: 3,
    durationS: 5,
    warmupS: 2,
    latencyS: 1,
    initialWarmS: 3,
    abPairs: 5,
    abS: 3,
    connections: 50,
    threads: 1,
    pin: 'strict',
    decisions: 1_000_000,
    lapiDecisions: 100_000,
    realLapi: true,
    http: true,
    tcp: true,
    https: true,
    h2: true,
    scaling: true,
    bulkBytes: 2 ** 30,
    echoConns: 8000,
    profile: true,
    profileS: 10,
    store: true,
    path: true,
    appsec: true,
    onlyAppsec: false,
    features: true,
    onlyFeatures: false,
    baseline: undefined,
    compare: undefined,
    featureRows: undefined,
    tail: true,
    onlyTail: false,
    tailS: 10,
    tailSemiSpaceMb: 16,
    save: false,
    keep: false,
  };
  const num = (i: number): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i]} needs a positive number\n${USAGE}`);
    return v;
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    given.add(a);
    switch (a) {
      case '--quick':
        o.quick = true;
        break;
      case '--rounds':
        o.rounds = Math.floor(num(i++));
        break;
      case '--duration':
        o.durationS = num(i++);
        break;
      case '--warmup':
        o.warmupS = num(i++);
        break;
      case '--connections':
        o.connections = Math.floor(num(i++));
        break;
      case '--threads':
        o.threads = Math.floor(num(i++));
        break;
      case '--decisions':
        o.decisions = Math.floor(num(i++));
        break;
      case '--lapi-decisions':
        o.lapiDecisions = Math.floor(num(i++));
        break;
      case '--no-lapi':
        o.realLapi = false;
        break;
      case '--ab-pairs':
        o.abPairs = Math.floor(Number(argv[++i]));
        break;
      case '--no-pin':
        o.pin = 'none';
        break;
      case '--pin': {
        const v = argv[++i];
        if (v !== 'strict' && v !== 'server' && v !== 'none') throw new Error(`--pin strict|server|none\n${USAGE}`);
        o.pin = v;
        break;
      }
      case '--no-http':
        o.http = false;
        break;
      case '--no-tcp':
        o.tcp = false;
        break;
      case '--no-https':
        o.https = false;
        break;
      case '--no-h2':
        o.h2 = false;
        break;
      case '--no-scaling':
        o.scaling = false;
        break;
      case '--no-profile':
        o.profile = false;
        break;
      case '--no-store':
        o.store = false;
        break;
      case '--no-path':
        o.path = false;
        break;
      case '--no-appsec':
        o.appsec = false;
        break;
      case '--only-appsec':
        o.onlyAppsec = true;
        break;
      case '--features':
        o.onlyFeatures = true;
        break;
      case '--no-features':
        o.features = false;
        break;
      case '--tail':
        o.onlyTail = true;
        break;
      case '--no-tail':
        o.tail = false;
        break;
      case '--tail-seconds':
        o.tailS = num(i++);
        break;
      case '--tail-semi-space':
        o.tailSemiSpaceMb = Math.floor(num(i++));
        break;
      case '--feature-rows':
        o.featureRows = (argv[++i] ?? '').split(',').filter((x) => x !== '');
        break;
      case '--baseline':
      case '--compare': {
        const v = argv[++i];
        if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a path\n${USAGE}`);
        if (a === '--baseline') o.baseline = v;
        else o.compare = v;
        break;
      }
      case '--save':
        o.save = true;
        break;
      case '--keep':
        o.keep = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  // The features table needs the fake-LAPI enforce daemon, not the real LAPI's.
  if (o.onlyFeatures) o.realLapi = false;
  if (o.quick) {
    if (!given.has('--rounds')) o.rounds = 1;
    if (!given.has('--duration')) o.durationS = 2;
    if (!given.has('--warmup')) o.warmupS = 1;
    o.latencyS = 1;
    o.initialWarmS = 3;
    if (!given.has('--ab-pairs')) o.abPairs = 2;
    if (!given.has('--tail-seconds')) o.tailS = 4;
    o.bulkBytes = 2 ** 28;
    o.echoConns = 5000;
    o.profileS = 4;
  }
  return o;
}
