import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface TestSshKey {
  /** The `.pub` line: `type blob comment`. */
  line: string;
  type: string;
  blob: string;
  /** The private key file as ssh-keygen wrote it (several lines). */
  privateKey: string;
}

/** A fresh key pair from ssh-keygen (no passphrase), so the parser is tested against real keys. */
export function generateSshKey(type: 'ed25519' | 'rsa' | 'ecdsa', options: { bits?: number; comment?: string } = {}): TestSshKey {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollcall-sshkey-'));
  try {
    const file = path.join(dir, 'key');
    const args = ['-q', '-t', type, '-N', '', '-C', options.comment ?? 'test@rollcall', '-f', file];
    if (options.bits !== undefined) args.push('-b', String(options.bits));
    execFileSync(SSH_KEYGEN, args, { stdio: 'ignore' });
    const line = readFileSync(`${file}.pub`, 'utf8').trim();
    const [keyType = '', blob = ''] = line.split(' ');
    return { line, type: keyType, blob, privateKey: readFileSync(file, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A base64 key blob in the SSH wire format (RFC 4251 `string`s), to build malformed keys by hand. */
export function sshWire(...fields: (string | Buffer)[]): string {
  return Buffer.concat(
    fields.flatMap((field) => {
      const bytes = typeof field === 'string' ? Buffer.from(field, 'latin1') : field;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  ).toString('base64');
}
