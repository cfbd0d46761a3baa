// Changes one service's access.crowdsec (or access.appsec) in services.yaml, the way a careful person would: on the
// file as it is on disk now (refused if it is not the version the page was built from), touching
// only that value so comments and layout stay, validated exactly as a reload would (the reloader's
// own check, with --deny-template and the other options of the running process), and
// written to a temp file in the same directory that is then renamed over the original.
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { ConfigError } from '../config/errors';
import type { CrowdSecMode, ServicesConfig } from '../config/types';

export type EditResult = { ok: true; version: string; changed: boolean } | { ok: false; status: 404 | 409 | 422 | 500; message: string };

/** A short content hash: the "version" a page loaded and must send back with a change. */
export function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export async function readVersion(file: string): Promise<string | undefined> {
  try {
    return versionOf(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Which access mode the admin UI edits: access.crowdsec, or access.appsec (its mode in the long form). */
export type ModeField = 'crowdsec' | 'appsec';

export function setCrowdsecMode(
  file: string,
  service: string,
  mode: CrowdSecMode,
  expectedVersion: string | undefined,
  validate: (text: string) => ServicesConfig,
): Promise<EditResult> {
  return setAccessMode(file, service, 'crowdsec', mode, expectedVersion, validate);
}

export async function setAccessMode(
  file: string,
  service: string,
  field: ModeField,
  mode: CrowdSecMode,
  expectedVersion: string | undefined,
  validate: (text: string) => ServicesConfig,
): Promise<EditResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, status: 500, message: `${file}: cannot read the file: ${(err as Error).message}` };
  }
  const current = versionOf(text);
  if (expectedVersion !== undefined && expectedVersion !== current) return changedOnDisk(file);

  const edited = editText(text, service, field, mode);
  if (typeof edited !== 'string') return edited;
  if (edited === text) return { ok: true, version: current, changed: false };

  try {
    const parsed = validate(edited);
    const svc = parsed.services.find((s) => s.name === service);
    const now = field === 'crowdsec' ? svc?.access.crowdsec : svc?.access.appsec.mode;
    if (now !== mode)
      return { ok: false, status: 500, message: `${file}: service "${service}": the edit did not produce access.${field}: ${mode}; nothing was written` };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, status: 422, message: `${err.message}; nothing was written` };
    throw err;
  }
  return writeAtomically(file, text, edited);
}

function changedOnDisk(file: string): EditResult {
  return {
    ok: false,
    status: 409,
    message: `${file} changed on disk since this page was loaded; nothing was written. Reload the page to see the current file, then make the change again.`,
  };
}

/** The edited text, or why it cannot be edited. */
function editText(text: string, service: string, field: ModeField, mode: CrowdSecMode): string | EditResult {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) return { ok: false, status: 422, message: `services.yaml is not valid YAML (${doc.errors[0]?.message ?? ''}); fix it first` };
  const services = doc.get('services', true);
  if (!isSeq(services)) return { ok: false, status: 422, message: 'services.yaml has no "services" list' };
  const index = services.items.findIndex((item) => isMap(item) && item.get('name') === service);
  if (index < 0) return { ok: false, status: 404, message: `no service "${service}" in services.yaml` };
  const item = services.items[index];
  if (!isMap(item)) return { ok: false, status: 404, message: `no service "${service}" in services.yaml` };

  const access = item.get('access', true);
  const fieldNode = isMap(access) ? access.get(field, true) : undefined;
  // access.appsec in its long form { mode, skip_paths }: the mode inside it.
  const long = isMap(fieldNode) ? fieldNode : undefined;
  const node = long !== undefined ? long.get('mode', true) : fieldNode;
  // The common case: replace just the characters of the existing value, so the file is
  // byte-for-byte the same elsewhere.
  if (
    isScalar(node) &&
    node.range !== undefined &&
    node.range !== null &&
    node.range[1] > node.range[0] &&
    (typeof node.value === 'string' || node.value === false)
  ) {
    return text.slice(0, node.range[0]) + mode + text.slice(node.range[1]);
  }
  // No value yet: insert one line of text where it belongs, so the rest stays byte-for-byte.
  // The caller re-validates the result, so a layout we misread is refused, never written.
  const inserted = long === undefined ? insertText(text, item, access, field, mode) : undefined;
  if (inserted !== undefined) return inserted;
  // Anything unusual: the Document API adds it and keeps the comments (spacing may be normalised).
  if (long !== undefined) long.set('mode', mode);
  else if (isMap(access)) access.set(field, mode);
  else item.set('access', (doc as Document).createNode({ [field]: mode }));
  return doc.toString();
}

function columnOf(text: string, pos: number): number {
  return pos - (text.lastIndexOf('\n', pos - 1) + 1);
}

function insertText(text: string, item: YAMLMap, access: unknown, field: ModeField, mode: CrowdSecMode): string | undefined {
  if (isMap(access)) {
    // First key of the existing access map: put the field in front of it.
    const first = access.items[0]?.key;
    if (!isScalar(first) || first.range === undefined || first.range === null) return undefined;
    const at = first.range[0];
    const add = access.flow === true ? `${field}: ${mode}, ` : `${field}: ${mode}\n${' '.repeat(columnOf(text, at))}`;
    return text.slice(0, at) + add + text.slice(at);
  }
  if (access !== undefined || item.flow === true) return undefined;
  // No access section: add one after the service's last key.
  const firstKey = item.items[0]?.key;
  const last = item.items[item.items.length - 1]?.value;
  if (!isScalar(firstKey) || firstKey.range === undefined || firstKey.range === null) return undefined;
  if (last === null || typeof last !== 'object' || !('range' in last) || last.range === undefined || last.range === null) return undefined;
  const indent = ' '.repeat(columnOf(text, firstKey.range[0]));
  const valueEnd = (last.range as [number, number, number])[1];
  const lineEnd = text.indexOf('\n', Math.max(0, valueEnd - 1));
  const add = `\n${indent}access:\n${indent}  ${field}: ${mode}`;
  return lineEnd < 0 ? `${text}${add}\n` : text.slice(0, lineEnd) + add + text.slice(lineEnd);
}

async function writeAtomically(file: string, original: string, text: string): Promise<EditResult> {
  // A symlinked services.yaml (a config repository, /etc/alternatives) is edited where it really
  // lives: the temp file goes beside the real file and is renamed over it, so the link stays.
  let real: string;
  let owner: { mode: number; uid: number; gid: number };
  try {
    real = await realpath(file);
    const st = await stat(real);
    owner = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    return { ok: false, status: 500, message: `${file}: cannot read the file: ${(err as Error).message}; nothing was changed` };
  }
  const shown = real === file ? file : `${file} (-> ${real})`;
  const tmp = join(dirname(real), `.${basename(real)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await keepOwnership(fh, owner);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Last look just before the rename: an editor may have saved in the meantime.
    if ((await readFile(real, 'utf8')) !== original) {
      await unlink(tmp).catch(() => undefined);
      return changedOnDisk(file);
    }
    await rename(tmp, real);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EBUSY' || code === 'EXDEV'
        ? ' (a single file bind-mounted into a container cannot be replaced: mount its directory instead)'
        : code === 'EACCES' || code === 'EROFS'
          ? ' (the directory must be writable by the proxy)'
          : code === 'EPERM'
            ? ` (the new file could not be given the owner ${owner.uid}:${owner.gid} of the current one)`
            : '';
    return { ok: false, status: 500, message: `${shown}: cannot write the new version${hint}: ${(err as Error).message}; nothing was changed` };
  }
  return { ok: true, version: versionOf(text), changed: true };
}

/** The new file gets the old one's owner, group and mode; chown only when they differ (it needs privileges). */
async function keepOwnership(fh: FileHandle, want: { mode: number; uid: number; gid: number }): Promise<void> {
  const st = await fh.stat();
  if (st.uid !== want.uid || st.gid !== want.gid) await fh.chown(want.uid, want.gid);
  await fh.chmod(want.mode);
}
