// ANSI colour for the commands' output on a terminal; none on a pipe or with NO_COLOR.
import { useColor } from '../telemetry/log-format';

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
}

const wrap =
  (on: boolean, code: string) =>
  (s: string): string =>
    on ? `\x1b[${code}m${s}\x1b[0m` : s;

export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  const on = useColor(stream, env);
  return { green: wrap(on, '32'), red: wrap(on, '31'), yellow: wrap(on, '33'), bold: wrap(on, '1') };
}
