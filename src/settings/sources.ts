// Where a setting's text comes from: flag > environment > env file > the table's default.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { DEFAULT_ENV_FILE, specOf, type SettingKey, type SettingSpec } from './options';
import { SettingsError } from './types';

export type RawValues = Partial<Record<SettingKey, string | boolean>>;

export interface EnvFile {
  /** The file read, if any. */
  file: string | undefined;
  vars: Record<string, string>;
  /** Why that file (or none) was read, for the start-up line. */
  reason: string;
}

/** The --proxy-env file, else ./proxy.env when it exists; a named file that cannot be read is an error. */
export function readEnvFile(flag: string | undefined): EnvFile {
  const file = flag ?? (existsSync(DEFAULT_ENV_FILE) ? DEFAULT_ENV_FILE : undefined);
  let vars: Record<string, string> = {};
  if (file !== undefined) {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const fix = code === 'ENOENT' ? ': create it (cp proxy.env.example proxy.env) or leave the flag out' : '';
      throw new SettingsError(`env file ${file} (--proxy-env / --env-file): cannot read it (${code ?? (err as Error).message})${fix}`);
    }
    vars = parseDotenv(text);
  }
  return { file, vars, reason: envFileReasonOf(flag, file) };
}

function envFileReasonOf(flag: string | undefined, file: string | undefined): string {
  if (flag !== undefined) return 'given with --proxy-env / --env-file';
  const where = `./${DEFAULT_ENV_FILE} in ${process.cwd()}`;
  return file === undefined ? `none: no --proxy-env and no ${where}` : `${where} exists (the default; --proxy-env names another)`;
}

/** A setting's text: `get` is undefined when nothing set it, `withDefault` falls back to the table. */
export interface Source {
  get(key: SettingKey): string | undefined;
  withDefault(key: SettingKey): string;
}

/** `flags` holds only options given on the command line; an empty variable counts as unset. */
export function sourceOf(flags: RawValues, env: NodeJS.ProcessEnv, fileEnv: Record<string, string>): Source {
  const raw = (spec: SettingSpec): string | undefined => {
    const flag = flags[spec.key];
    if (flag !== undefined) return typeof flag === 'boolean' ? String(flag) : flag;
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const fromFile = fileEnv[spec.env];
    if (fromFile !== undefined && fromFile !== '') return fromFile;
    return undefined;
  };
  return {
    get: (key) => raw(specOf(key)),
    withDefault: (key) => {
      const spec = specOf(key);
      const value = raw(spec);
      if (value !== undefined) return value;
      if (spec.default === undefined) throw new Error(`setting ${key} has no default`);
      return spec.default;
    },
  };
}
