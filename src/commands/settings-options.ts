// The daemon's flags, shared by the root command (start) and `validate`, so that both accept
// and resolve exactly the same settings.
import { Option, type Command } from 'commander';
import { ENV_FILE_ALIAS, ENV_FILE_FLAG, SETTINGS, type SettingKey } from '../settings/options';
import { resolveSettings } from '../settings/resolve';
import { SettingsError, type Settings } from '../settings/types';
import { ConfigError } from '../config/load';
import type { Paint } from './paint';

type RawOptions = Partial<Record<SettingKey, string | boolean>> & { proxyEnv?: string; envFile?: string };

export function addSettingsOptions(cmd: Command): Command {
  cmd.addOption(new Option(ENV_FILE_FLAG, 'dotenv file with NB_PROXY_* variables (default: ./proxy.env when it exists)'));
  cmd.addOption(
    new Option(
      ENV_FILE_ALIAS,
      'alias of --proxy-env; `node bin/netbird-proxy --env-file x` is taken by Node itself, use ./bin/netbird-proxy or node -- bin/netbird-proxy',
    ),
  );
  for (const spec of SETTINGS) {
    const extra = spec.default !== undefined ? `env: ${spec.env}, default: ${spec.default}` : `env: ${spec.env}`;
    cmd.addOption(new Option(spec.flag, `${spec.description} (${extra})`));
  }
  return cmd;
}

/**
 * Resolves the settings from the flags given to `cmd` and to its parents (`netbird-proxy --config x
 * validate` and `netbird-proxy validate --config x` mean the same), the environment and the env file.
 */
export function settingsFromCommand(cmd: Command, env: NodeJS.ProcessEnv = process.env): Settings {
  const merged: RawOptions = {};
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) chain.unshift(c);
  for (const c of chain) {
    for (const [key, value] of Object.entries(c.opts<RawOptions>())) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  const flags: Partial<Record<SettingKey, string | boolean>> = {};
  for (const spec of SETTINGS) {
    const value = merged[spec.key];
    if (value !== undefined) flags[spec.key] = value;
  }
  return resolveSettings(flags, env, merged.proxyEnv ?? merged.envFile);
}

/** Bad settings or services.yaml: one line on stderr and exit status 2, as for a start. */
export function exitOnUsageError(err: unknown, paint?: Paint): never {
  if (err instanceof SettingsError || err instanceof ConfigError) {
    const all = err instanceof ConfigError ? [err, ...err.others] : [err];
    process.stderr.write(all.map((e) => `netbird-proxy: ${paint === undefined ? e.message : paint.red(e.message)}\n`).join(''));
    process.exit(2);
  }
  throw err;
}
