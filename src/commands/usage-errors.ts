// Commander's own errors (unknown flag, missing value) follow the start-up rule: one line on
// stderr, exit 2. --help and --version still exit 0.
import type { Command } from 'commander';

export const HELP_FOOTER = `
Signals:
  SIGHUP           reload services.yaml (a bad file keeps the running config)
  SIGUSR2          reopen the --access-log file (after logrotate)
  SIGTERM, SIGINT  graceful stop: in-flight requests get --shutdown-grace

Exit codes:
  0  stopped by a signal, or validate found no error
  1  a bug (uncaught exception): please report it
  2  operator error found before serving: bad flag, env var, env file, services.yaml,
     access log path, GeoIP database, or a listener address that cannot be bound`;

export function configureUsageErrors(program: Command): void {
  program
    .configureOutput({
      outputError: (str, write) =>
        write(
          `netbird-proxy: ${str
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()} (see --help)\n`,
        ),
    })
    .exitOverride((err) => {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(0);
      process.exit(2);
    });
}
