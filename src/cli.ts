import { Command } from 'commander';
import { registerHashPasswordCommand } from './commands/hash-password';
import { registerHealthcheckCommand } from './commands/healthcheck';
import { addSettingsOptions, exitOnUsageError, settingsFromCommand } from './commands/settings-options';
import { registerStatusCommand } from './commands/status';
import { HELP_FOOTER, configureUsageErrors } from './commands/usage-errors';
import { registerValidateCommand } from './commands/validate';
import { VERSION } from './version';

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = new Command('netbird-proxy')
    .description('TCP/HTTP reverse proxy that refuses clients flagged by CrowdSec, CIDR or country rules, per service')
    .version(VERSION)
    .addHelpText('after', HELP_FOOTER)
    // Options after a subcommand's name belong to the subcommand (validate has the same flags).
    .enablePositionalOptions();
  configureUsageErrors(program);
  addSettingsOptions(program);
  program.action(async () => {
    try {
      const settings = settingsFromCommand(program);
      // Loaded here so that `status` and `healthcheck` (run every few seconds by Docker) stay light.
      if (settings.workers > 1) await (await import('./cluster/start')).runCluster(settings);
      else await (await import('./assembly/single')).runSingleProcess(settings);
    } catch (err) {
      exitOnUsageError(err);
    }
  });
  registerValidateCommand(program);
  registerStatusCommand(program);
  registerHealthcheckCommand(program);
  registerHashPasswordCommand(program);
  await program.parseAsync(argv);
}
