// `netbird-proxy hash-password`: reads a password (or, with --pin, a PIN) from standard input and
// prints its `$scrypt$...` hash for services.yaml's auth.password.hash / auth.pin.hash. The secret
// is never echoed: a terminal gets no echo while it is typed.
import type { Command } from 'commander';
import { hashSecret } from '../auth/secret-hash';

interface HashOptions {
  pin?: boolean;
}

export function registerHashPasswordCommand(program: Command): void {
  program
    .command('hash-password')
    .description('read a password (or --pin) from standard input and print its hash for services.yaml auth')
    .option('--pin', 'the secret is a PIN: digits only, 4 to 12 of them')
    .action(async (opts: HashOptions) => {
      process.exitCode = await hashPassword(opts);
    });
}

async function hashPassword(opts: HashOptions): Promise<number> {
  const what = opts.pin ? 'PIN' : 'password';
  const secret = await readSecret(`${what}: `);
  if (secret === '') {
    process.stderr.write(`netbird-proxy hash-password: no ${what} given on standard input\n`);
    return 2;
  }
  if (opts.pin && !/^\d{4,12}$/.test(secret)) {
    process.stderr.write('netbird-proxy hash-password: a PIN is 4 to 12 digits\n');
    return 2;
  }
  process.stdout.write(`${await hashSecret(secret)}\n`);
  return 0;
}

/** The first line of standard input; on a terminal, prompted on stderr without echo. */
function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  if (tty) {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
  }
  return new Promise((resolve) => {
    let text = '';
    const finish = (): void => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', finish);
      if (tty) {
        stdin.setRawMode(false);
        process.stderr.write('\n');
      }
      stdin.pause();
      resolve(text);
    };
    const onData = (chunk: Buffer): void => {
      const s = chunk.toString('utf8');
      for (const ch of s) {
        if (ch === '\n' || ch === '\r' || ch === '\u0004') return finish();
        // Ctrl-C on a raw terminal.
        if (ch === '\u0003') {
          text = '';
          return finish();
        }
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
    stdin.on('end', finish);
  });
}
