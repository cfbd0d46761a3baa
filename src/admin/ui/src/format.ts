// Times and durations as the page shows them: 24-hour local times in ISO order everywhere, and
// durations in the unit a person reads at a glance.

const two = (n: number): string => String(n).padStart(2, '0');

/** "2026-12-07 14:05:09" in local time. */
export function dateTime(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock(d)}`;
}

/** "14:05:09" in local time. */
export function clock(d: Date): string {
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** "14:05:09.042" in local time. */
export function clockMs(d: Date): string {
  return `${clock(d)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** 0.42 → "0.42 ms", 37.6 → "38 ms", 5315 → "5.3 s", 754000 → "12 min 34 s". */
export function duration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
