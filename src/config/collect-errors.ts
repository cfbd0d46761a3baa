// Every service of a file is checked even after one fails, so that `validate` reports each bad
// service at once (one error per service: the first of its fields).
import { ConfigError } from './errors';

/** Maps each raw service; throws the first service's ConfigError with the later ones in `others`. */
export function collectServiceErrors<T>(raws: unknown[], parse: (raw: unknown, index: number) => T): T[] {
  const out: T[] = [];
  const errors: ConfigError[] = [];
  raws.forEach((raw, i) => {
    try {
      out.push(parse(raw, i));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(err);
    }
  });
  const [first, ...rest] = errors;
  if (first !== undefined) {
    first.others = rest;
    throw first;
  }
  return out;
}
