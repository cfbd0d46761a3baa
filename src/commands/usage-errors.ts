// Commander's own errors (unknown flag, missing value) follow the start-up rule: one line on
// stderr, exit 2. --help and --version still exit 0.
import { Help, type Command } from 'commander';

export const HELP_FOOTER = `
Signals:
  SIGHUP           reload services.yaml (a bad file keeps the running config)
  SIGUSR2          reopen the --access-log file (after logrotate)
  SIGTERM, SIGINT  graceful stop: in-flight requests get --shutdown-grace

Exit codes:
  0  stopped by a signal, or validate found no error
  1  a bug (uncaught exception): please report it
  2  operator error found before serving: bad flag, env var, env file,
     services.yaml, access log path, GeoIP database, or a listener address that
     cannot be bound`;

/**
 * Commander leaves a description unwrapped when the option column leaves it under 40 columns (our
 * longest flag takes 46): such items get the flag on its own line and the description wrapped to
 * the terminal's width (80 off a terminal) below it.
 */
function formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
  const width = helper.helpWidth ?? 80;
  if (description === '' || width - termWidth - 4 >= helper.minWidthToWrap) return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
  const indent = '      ';
  return `  ${term}\n${helper.boxWrap(description, width - indent.length).replace(/^/gm, indent)}`;
}

export function configureUsageErrors(program: Command): void {
  program
    .configureHelp({ formatItem })
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
