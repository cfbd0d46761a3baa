// The one error type the services.yaml loader throws.

export interface ConfigErrorWhere {
  /** The file path as the caller gave it. */
  file: string;
  /** Service name, or `services[2]` when the name itself is missing or invalid. */
  service?: string;
  /** Dotted path inside the service (or the top level), e.g. `access.cidr.allow[1]`. */
  field?: string;
  /** 1-based line, for YAML syntax errors. */
  line?: number;
  /** 1-based column, for YAML syntax errors. */
  column?: number;
}

/**
 * Message format, always in this order and with the optional parts left out when unknown:
 *
 *   <file>: [line L, column C: ][service "<name>": | services[i]: ][field "<path>": ]<reason>
 *
 * e.g. `services.yaml: service "web": field "access.cidr.allow[1]": "10.0.0.0/33" is not a valid CIDR`
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly service?: string;
  readonly field?: string;
  readonly line?: number;
  readonly column?: number;
  /** The message without the file/service/field prefix. */
  readonly reason: string;
  /** Errors of later services in the same file (validate and a start print them all, one a line). */
  others: readonly ConfigError[] = [];

  constructor(reason: string, where: ConfigErrorWhere, options?: { cause?: unknown }) {
    super(formatConfigError(reason, where), options);
    this.name = 'ConfigError';
    this.reason = reason;
    this.file = where.file;
    if (where.service !== undefined) this.service = where.service;
    if (where.field !== undefined) this.field = where.field;
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
  }
}

export function formatConfigError(reason: string, where: ConfigErrorWhere): string {
  let s = `${where.file}: `;
  if (where.line !== undefined) {
    s += `line ${where.line}`;
    if (where.column !== undefined) s += `, column ${where.column}`;
    s += ': ';
  }
  if (where.service !== undefined) {
    s += where.service.startsWith('services[') ? `${where.service}: ` : `service "${where.service}": `;
  }
  if (where.field !== undefined) s += `field "${where.field}": `;
  return s + reason;
}
