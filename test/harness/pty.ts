// Runs the real binary on a pseudo-terminal (util-linux `script`, Debian package bsdutils), so
// that what it does only on a terminal (pretty logs, colour) can be tested. The command must end
// by itself.
import { spawn } from 'node:child_process';
import { BIN } from './daemon';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function runOnTerminal(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map(quote).join(' ');
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.once('error', (err) => reject(new Error(`script (Debian package bsdutils) is needed: ${err.message}`)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r\n/g, '\n') });
    });
  });
}
