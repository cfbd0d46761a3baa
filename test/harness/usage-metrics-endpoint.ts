/*
 * POST /v1/usage-metrics on a scripted LAPI (fake-lapi.ts), for the usage metrics the 1.4.6 LAPI predates.
 * Every push is checked against the shape of CrowdSec's LAPI swagger (pkg/models/localapi_swagger.yaml:
 * AllMetrics → RemediationComponentsMetrics = BaseMetrics + type/name/last_pull → DetailedMetrics →
 * MetricsMeta, MetricsDetailItem, MetricsLabels, OSversion) and the "Remediation Component Metrics" spec's
 * names, units and labels. The checks are written here from those documents; an invalid push gets 422.
 */
import type { FakeLapi, FakeRequest } from './fake-lapi';

export interface UsageItem {
  name: string;
  unit: string;
  value: number;
  labels?: Record<string, string>;
}

export interface UsagePush {
  /** The parsed body. */
  body: {
    remediation_components: Array<{
      type?: string;
      name?: string;
      version: string;
      utc_startup_timestamp: number;
      os?: { name: string; version: string; family?: string };
      feature_flags?: string[];
      metrics?: Array<{ meta: { window_size_seconds: number; utc_now_timestamp: number }; items: UsageItem[] }>;
    }>;
  };
  items: UsageItem[];
  request: FakeRequest;
  /** The status it was answered with. */
  status: number;
  /** Schema violations (empty when valid). */
  errors: string[];
}

const MAX_LEN = 255;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v);

/** Schema violations of a POST /v1/usage-metrics body sent by a remediation component; [] when valid. */
export function validateUsageMetrics(body: unknown): string[] {
  const errs: string[] = [];
  const str = (v: unknown, at: string, required: boolean): void => {
    if (v === undefined) {
      if (required) errs.push(`${at}: required`);
      return;
    }
    if (typeof v !== 'string') errs.push(`${at}: not a string`);
    else if (v.length > MAX_LEN) errs.push(`${at}: longer than ${MAX_LEN}`);
  };
  const only = (o: Record<string, unknown>, at: string, keys: string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) errs.push(`${at}.${k}: not in the schema`);
  };
  if (!isObj(body)) return ['body: not an object'];
  only(body, 'body', ['remediation_components', 'log_processors', 'lapi']);
  if (body.log_processors !== undefined || body.lapi !== undefined) errs.push('body: a remediation component sends remediation_components only');
  const rcs = body.remediation_components;
  if (!Array.isArray(rcs)) return [...errs, 'remediation_components: not an array'];
  if (rcs.length !== 1) errs.push(`remediation_components: ${rcs.length} elements, expected 1`);
  rcs.forEach((rc: unknown, i) => {
    const at = `remediation_components[${i}]`;
    if (!isObj(rc)) return void errs.push(`${at}: not an object`);
    only(rc, at, ['type', 'name', 'last_pull', 'version', 'utc_startup_timestamp', 'os', 'feature_flags', 'metrics']);
    str(rc.type, `${at}.type`, false);
    str(rc.name, `${at}.name`, false);
    if (rc.last_pull !== undefined && !isInt(rc.last_pull)) errs.push(`${at}.last_pull: not an integer`);
    str(rc.version, `${at}.version`, true);
    if (!isInt(rc.utc_startup_timestamp)) errs.push(`${at}.utc_startup_timestamp: required integer`);
    if (rc.os !== undefined) {
      if (!isObj(rc.os)) errs.push(`${at}.os: not an object`);
      else {
        only(rc.os, `${at}.os`, ['name', 'version', 'family']);
        str(rc.os.name, `${at}.os.name`, true);
        str(rc.os.version, `${at}.os.version`, true);
        str(rc.os.family, `${at}.os.family`, false);
      }
    }
    if (rc.feature_flags !== undefined) {
      if (!Array.isArray(rc.feature_flags) || rc.feature_flags.some((f) => typeof f !== 'string')) errs.push(`${at}.feature_flags: not an array of strings`);
    }
    if (rc.metrics === undefined) return;
    if (!Array.isArray(rc.metrics)) return void errs.push(`${at}.metrics: not an array`);
    rc.metrics.forEach((m: unknown, j) => {
      const mat = `${at}.metrics[${j}]`;
      if (!isObj(m)) return void errs.push(`${mat}: not an object`);
      only(m, mat, ['meta', 'items']);
      if (!isObj(m.meta)) errs.push(`${mat}.meta: required object`);
      else {
        only(m.meta, `${mat}.meta`, ['window_size_seconds', 'utc_now_timestamp', 'utc_startup_timestamp']);
        if (!isInt(m.meta.window_size_seconds)) errs.push(`${mat}.meta.window_size_seconds: required integer`);
        if (!isInt(m.meta.utc_now_timestamp)) errs.push(`${mat}.meta.utc_now_timestamp: required integer`);
      }
      if (!Array.isArray(m.items)) return void errs.push(`${mat}.items: required array`);
      m.items.forEach((it: unknown, k) => {
        const iat = `${mat}.items[${k}]`;
        if (!isObj(it)) return void errs.push(`${iat}: not an object`);
        only(it, iat, ['name', 'unit', 'value', 'labels']);
        str(it.name, `${iat}.name`, true);
        str(it.unit, `${iat}.unit`, true);
        if (typeof it.value !== 'number' || !Number.isFinite(it.value)) errs.push(`${iat}.value: required number`);
        if (it.labels !== undefined) {
          if (!isObj(it.labels)) errs.push(`${iat}.labels: not an object`);
          else for (const [key, v] of Object.entries(it.labels)) str(v, `${iat}.labels.${key}`, true);
        }
        errs.push(...specChecks(it, iat));
      });
    });
  });
  return errs;
}

/** The metrics spec: which names, units and labels a remediation component sends. */
function specChecks(it: Record<string, unknown>, at: string): string[] {
  const errs: string[] = [];
  const labels = isObj(it.labels) ? it.labels : {};
  const keys = Object.keys(labels).sort().join(',');
  if (typeof it.value === 'number' && (!Number.isInteger(it.value) || it.value < 0)) errs.push(`${at}.value: a count must be a whole number >= 0`);
  switch (it.name) {
    case 'dropped':
      if (it.unit !== 'request' && it.unit !== 'connection') errs.push(`${at}.unit: "${String(it.unit)}" for dropped`);
      if (keys !== 'origin,remediation') errs.push(`${at}.labels: dropped is labelled origin and remediation, got [${keys}]`);
      if (labels.origin === 'lists') errs.push(`${at}.labels.origin: origin lists must be lists:<scenario>`);
      break;
    case 'processed':
      if (it.unit !== 'request' && it.unit !== 'connection') errs.push(`${at}.unit: "${String(it.unit)}" for processed`);
      break;
    case 'active_decisions':
      if (it.unit !== 'ip') errs.push(`${at}.unit: active_decisions is counted in ip`);
      if (keys !== 'ip_type,origin') errs.push(`${at}.labels: active_decisions is labelled origin and ip_type, got [${keys}]`);
      if (labels.ip_type !== 'ipv4' && labels.ip_type !== 'ipv6') errs.push(`${at}.labels.ip_type: not ipv4 or ipv6`);
      break;
    default:
      errs.push(`${at}.name: "${String(it.name)}" is not dropped, processed or active_decisions`);
  }
  return errs;
}

export interface UsageEndpoint {
  /** Every push received, in order, valid or not. */
  readonly pushes: UsagePush[];
  /** Answer the next push with this status (e.g. 500) instead of 201. */
  failNext(status: number): void;
  /** Resolves with the first push (index >= since) that matches. */
  waitForPush(pred?: (p: UsagePush) => boolean, timeoutMs?: number, since?: number): Promise<UsagePush>;
}

/** Serves POST /v1/usage-metrics on `fake` (its respond handler): 403 on a wrong key, 422 when invalid, else 201. */
export function serveUsageMetrics(fake: FakeLapi): UsageEndpoint {
  const pushes: UsagePush[] = [];
  const failures: number[] = [];
  const waiters: Array<{ pred: (p: UsagePush) => boolean; since: number; resolve: (p: UsagePush) => void }> = [];
  fake.respond((req) => {
    if (req.method !== 'POST' || req.path !== '/v1/usage-metrics') return undefined;
    if (req.headers['x-api-key'] !== fake.apiKey) return { status: 403, body: '{"message":"access forbidden"}' };
    let parsed: unknown;
    let errors: string[];
    try {
      parsed = JSON.parse(req.body);
      errors = validateUsageMetrics(parsed);
    } catch (err) {
      errors = [`body: not JSON (${(err as Error).message})`];
    }
    if (!/^application\/json/.test(String(req.headers['content-type']))) errors.push(`content-type: ${String(req.headers['content-type'])}`);
    const status = errors.length > 0 ? 422 : (failures.shift() ?? 201);
    const body = (parsed ?? { remediation_components: [] }) as UsagePush['body'];
    const items = body.remediation_components?.[0]?.metrics?.flatMap((m) => m.items) ?? [];
    const push: UsagePush = { body, items, request: req, status, errors };
    pushes.push(push);
    for (const w of [...waiters]) {
      if (pushes.length - 1 >= w.since && w.pred(push)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(push);
      }
    }
    return { status, body: status === 201 ? '' : JSON.stringify({ message: errors.join('; ') || 'scripted failure' }) };
  });
  return {
    pushes,
    failNext: (status) => void failures.push(status),
    waitForPush(pred = () => true, timeoutMs = 10_000, since = pushes.length) {
      const hit = pushes.slice(since).find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          since,
          resolve: (p: UsagePush) => {
            clearTimeout(timer);
            resolve(p);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`usage metrics: no matching push within ${timeoutMs} ms (${pushes.length} seen)`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
  };
}

/** Sums of the dropped and processed items over pushes, keyed "name unit origin/remediation". */
export function sumCounts(pushes: UsagePush[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pushes) {
    for (const it of p.items) {
      if (it.name === 'active_decisions') continue;
      const key = it.name === 'dropped' ? `dropped ${it.unit} ${it.labels?.origin}/${it.labels?.remediation}` : `processed ${it.unit}`;
      out[key] = (out[key] ?? 0) + it.value;
    }
  }
  return out;
}
