import { Command, Option } from 'commander';
import { ENV_FILE_FLAG, SETTINGS, SettingsError, resolveSettings, type SettingKey } from './settings';
import { ConfigError } from './config/load';
import { registerHealthcheckCommand } from './commands/healthcheck';
import { registerStatusCommand } from './commands/status';
import { VERSION } from './version';

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = new Command('netbird-proxy')
    .description('TCP/HTTP reverse proxy that refuses clients flagged by CrowdSec, CIDR or country rules, per service')
    .version(VERSION)
    .showHelpAfterError()
    // Options before a subcommand belong to the daemon; `status --admin-addr` is the subcommand's.
    .enablePositionalOptions()
    .addOption(new Option(ENV_FILE_FLAG, 'dotenv file with NB_PROXY_* variables (default: ./proxy.env when it exists)'));
  for (const spec of SETTINGS) {
    const extra = spec.default !== undefined ? `env: ${spec.env}, default: ${spec.default}` : `env: ${spec.env}`;
    program.addOption(new Option(spec.flag, `${spec.description} (${extra})`));
  }
  registerStatusCommand(program);
  registerHealthcheckCommand(program);
  program.action(() => runFromOptions(program));
  await program.parseAsync(argv);
}

async function runFromOptions(program: Command): Promise<void> {
  const opts = program.opts<Partial<Record<SettingKey, string | boolean>> & { envFile?: string }>();
  const flags: Partial<Record<SettingKey, string | boolean>> = {};
  for (const spec of SETTINGS) {
    const value = opts[spec.key];
    if (value !== undefined) flags[spec.key] = value;
  }

  try {
    const settings = resolveSettings(flags, process.env, opts.envFile);
    // Loaded here so that `status` and `healthcheck` (run every few seconds by Docker) stay light.
    const { runDaemon } = await import('./daemon');
    await runDaemon(settings);
  } catch (err) {
    if (err instanceof SettingsError || err instanceof ConfigError) {
      process.stderr.write(`netbird-proxy: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
