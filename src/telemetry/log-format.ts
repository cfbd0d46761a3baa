// --log-format: JSON lines for machines (the default off a terminal), pino-pretty for a person.
export type LogFormat = 'json' | 'pretty';

/** The format for a --log-format value (undefined: pretty when stdout is a terminal); undefined when invalid. */
export function resolveLogFormat(value: string | undefined, stdoutIsTty: boolean): LogFormat | undefined {
  if (value === undefined) return stdoutIsTty ? 'pretty' : 'json';
  const v = value.trim().toLowerCase();
  return v === 'json' || v === 'pretty' ? v : undefined;
}

/** Colour in pretty output: a terminal, and NO_COLOR (https://no-color.org) not set. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
