// `netbird-proxy validate`: resolve the settings and load services.yaml exactly as a start does,
// then exit without binding or connecting anything (like `nginx -t`).
import type { Command } from 'commander';
import { formatHostPort } from '../config/addr';
import { toServicesDocument } from '../config/to-document';
import { crowdsecModeOf } from '../config/routes';
import type { ServicesConfig } from '../config/types';
import { preflight } from '../daemon/preflight';
import { openGeoDatabase } from '../daemon/geo-database';
import type { Settings } from '../settings/types';
import { neverMatching } from '../restrictions/never-match';
import { paintFor, type Paint } from './paint';
import { addSettingsOptions, exitOnUsageError, settingsFromCommand } from './settings-options';

interface ValidateOptions {
  json?: boolean;
}

export function registerValidateCommand(program: Command): void {
  const cmd = program
    .command('validate')
    .description('check the settings and services.yaml as a start would, then exit (0: valid, 2: invalid); binds nothing')
    .option('--json', 'print the normalised services.yaml as JSON instead of the summary line');
  addSettingsOptions(cmd);
  cmd.action(async (opts: ValidateOptions) => {
    let settings: Settings;
    let config: ServicesConfig;
    let geo: unknown;
    const errPaint = paintFor(process.stderr);
    try {
      settings = settingsFromCommand(cmd);
      ({ config, geo } = await preflight(settings));
    } catch (err) {
      exitOnUsageError(err, errPaint);
    }
    for (const line of warnings(config)) process.stderr.write(`netbird-proxy: ${errPaint.yellow('warning')}: ${line}\n`);
    // A start carries on without the bundled country database (country rules then deny); say so here too.
    try {
      if (geo === undefined) openGeoDatabase(undefined);
    } catch (err) {
      process.stderr.write(
        `netbird-proxy: warning: country database unavailable (${(err as Error).message}): services with country rules deny with geo_unavailable\n`,
      );
    }
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify(toServicesDocument(config), null, 2)}\n`);
    } else {
      process.stdout.write(`${summary(settings, config, paintFor(process.stdout))}\n`);
    }
  });
}

/** Rules that are valid but can never match, one line each, naming file and service as errors do. */
function warnings(config: ServicesConfig): string[] {
  return config.services.flatMap((s) => neverMatching(s.access).map((w) => `${config.file}: service "${s.name}": ${w}`));
}

function summary(settings: Settings, config: ServicesConfig, paint: Paint): string {
  const http = config.services.filter((s) => s.protocol === 'http').length;
  const tcp = config.services.length - http;
  const crowdsecUsers = config.services.filter((s) => crowdsecModeOf(s) !== 'off').length;
  const crowdsec = settings.crowdsec === undefined ? 'CrowdSec not configured' : `CrowdSec ${settings.crowdsec.apiUrl} used by ${crowdsecUsers}`;
  return (
    `${config.file}: ${paint.green('OK')}, ${config.services.length} service${config.services.length === 1 ? '' : 's'} (${http} http, ${tcp} tcp); ` +
    `http ${formatHostPort(settings.httpAddr)}, admin ${formatHostPort(settings.adminAddr)}; ${crowdsec}`
  );
}
