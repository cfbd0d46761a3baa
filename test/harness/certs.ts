// Throwaway certificates for TLS tests, made with the openssl CLI: a root, an intermediate, and
// leaves signed by the intermediate (so a file holding leaf + intermediate is a real chain).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('openssl CLI not found (scripts/install-test-deps.sh installs it)');
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

export interface TestCa {
  dir: string;
  /** PEM of the root, what clients trust. */
  rootPem: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeCa(dir: string): Promise<TestCa> {
  await openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'root.key',
    '-out',
    'root.crt',
    '-days',
    '2',
    '-subj',
    '/CN=nbp test root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await writeFile(join(dir, 'int.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
  await openssl(dir, ['req', '-new', ...EC, '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=nbp test intermediate']);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'int.csr',
    '-CA',
    'root.crt',
    '-CAkey',
    'root.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    'int.crt',
    '-extfile',
    'int.ext',
  ]);
  return { dir, rootPem: await readFile(join(dir, 'root.crt'), 'utf8') };
}

/** Writes <name>.crt (leaf + intermediate) and <name>.key; returns their paths. */
export async function issueLeaf(ca: TestCa, name: string, dnsNames: string[]): Promise<{ cert: string; key: string }> {
  const { dir } = ca;
  await writeFile(
    join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}\n`,
  );
  await openssl(dir, ['req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${dnsNames[0] ?? name}`]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'int.crt',
    '-CAkey',
    'int.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.leaf`,
    '-extfile',
    `${name}.ext`,
  ]);
  const chain = (await readFile(join(dir, `${name}.leaf`), 'utf8')) + (await readFile(join(dir, 'int.crt'), 'utf8'));
  await writeFile(join(dir, `${name}.crt`), chain);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}
