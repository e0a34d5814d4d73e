import { createHash } from 'node:crypto';

/** One authorized_keys line, taken apart. */
export interface SshKey {
  /** The options field (`from="10.0.0.0/8",no-pty`), absent when the line has none. */
  options?: string;
  type: string;
  /** The base64 key blob. */
  blob: string;
  comment?: string;
}

export type ParseSshKeyResult = { ok: true; key: SshKey } | { ok: false; error: string };

/** Key types OpenSSH accepts in authorized_keys (DSA is disabled in OpenSSH 9.8 and later). */
const KEY_TYPES: ReadonlySet<string> = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** Options documented in sshd(8) AUTHORIZED_KEYS FILE FORMAT; those taking a value end in `=`. */
const KEY_OPTIONS: ReadonlySet<string> = new Set([
  'agent-forwarding', 'cert-authority', 'command=', 'environment=', 'expiry-time=', 'from=',
  'no-agent-forwarding', 'no-port-forwarding', 'no-pty', 'no-user-rc', 'no-x11-forwarding',
  'permitlisten=', 'permitopen=', 'port-forwarding', 'principals=', 'pty', 'no-touch-required',
  'verify-required', 'restrict', 'tunnel=', 'user-rc', 'x11-forwarding',
]);

const MIN_RSA_BITS = 2048;
const CONTROL_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Parses one authorized_keys line: `[options] type base64-blob [comment]`. The blob must decode to
 * a key of the named type (a pasted key cut short, or a private key, fails here rather than on the
 * host). Never throws.
 */
export function parseSshKey(line: string): ParseSshKeyResult {
  const text = line.replace(/^[ \t]+|[ \t]+$/g, '');
  // Before the control-character test: a pasted private key spans lines, and this says what to do.
  if (text.startsWith('-----BEGIN')) {
    return { ok: false, error: 'looks like a private key or PEM file: paste the public key (the .pub file) instead' };
  }
  if (CONTROL_CHARACTER.test(line)) {
    return { ok: false, error: 'must be one line without control characters' };
  }
  if (text === '') return { ok: false, error: 'is empty' };

  let rest = text;
  let options: string | undefined;
  const [firstWord = '', secondWord = ''] = text.split(/[ \t]+/);
  if (!KEY_TYPES.has(firstWord)) {
    // `ssh-dss AAAA…` or a typo like `ssh-ed2519 AAAA…` is a key of an unknown type, not an option.
    if (!KEY_OPTIONS.has(firstWord.toLowerCase()) && /^[a-z][a-z0-9.@-]*$/.test(firstWord) && /^[A-Za-z0-9+/]+={0,2}$/.test(secondWord)) {
      return { ok: false, error: `unknown key type "${firstWord}" (expected one of ${[...KEY_TYPES].join(', ')})` };
    }
    const parsed = splitOptions(rest);
    if (!parsed.ok) return parsed;
    options = parsed.options;
    rest = parsed.rest;
  }

  const [type = '', blob = '', ...commentWords] = rest.split(/[ \t]+/);
  if (!KEY_TYPES.has(type)) {
    return { ok: false, error: `unknown key type "${type}" (expected one of ${[...KEY_TYPES].join(', ')})` };
  }
  const blobError = checkBlob(type, blob);
  if (blobError) return { ok: false, error: blobError };
  const comment = commentWords.join(' ');
  return { ok: true, key: { ...(options ? { options } : {}), type, blob, ...(comment ? { comment } : {}) } };
}

/**
 * Spaces and tabs trimmed and each run of them folded to one space: the form both the planner and
 * the agent hash. Only spaces and tabs, so that a POSIX shell agent can do exactly the same.
 */
export function normalizeKeyLine(line: string): string {
  return line.replace(/^[ \t]+|[ \t]+$/g, '').replace(/[ \t]+/g, ' ');
}

/** `sha256:<hex>` of the normalized line: what the agent reports instead of the line itself. */
export function keyFingerprint(line: string): string {
  return `sha256:${createHash('sha256').update(normalizeKeyLine(line)).digest('hex')}`;
}

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

export function isKeyFingerprint(entry: string): boolean {
  // The length and prefix test first: this runs once per key per account in a fleet-wide plan.
  return entry.length === 71 && entry.startsWith('sha256:') && FINGERPRINT.test(entry);
}

/** Options end at the first blank outside double quotes; `\"` inside quotes does not close them. */
function splitOptions(text: string): { ok: true; options: string; rest: string } | { ok: false; error: string } {
  const blanks = separatorsOutsideQuotes(text, ' \t');
  if (blanks.unclosed) return { ok: false, error: 'has an unclosed double quote in its options' };
  const end = blanks.at[0];
  if (end === undefined) return { ok: false, error: 'has no key after its options (expected "[options] type base64 [comment]")' };
  const options = text.slice(0, end);
  const commas = separatorsOutsideQuotes(options, ',').at;
  const parts = [-1, ...commas].map((start, index) => options.slice(start + 1, commas[index] ?? options.length));
  for (const option of parts) {
    const name = option.toLowerCase().replace(/=.*$/s, '=');
    if (!KEY_OPTIONS.has(name)) {
      const hint = KEY_OPTIONS.has(`${name}=`) ? ` (it takes a value: ${name}="…")` : '';
      return { ok: false, error: `has an unknown option "${option.replace(/=.*$/s, '')}"${hint}` };
    }
  }
  return { ok: true, options, rest: text.slice(end).trimStart() };
}

/** Where `separators` stand outside double quotes (sshd's quoting: `\"` does not close them). */
function separatorsOutsideQuotes(text: string, separators: string): { at: number[]; unclosed: boolean } {
  const at: number[] = [];
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes && ch === '\\' && text[i + 1] === '"') i++;
    else if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && separators.includes(ch)) at.push(i);
  }
  return { at, unclosed: inQuotes };
}

/** Reads the SSH wire format (RFC 4251 `string`s) of the blob and checks it against the type. */
function checkBlob(type: string, blob: string): string | undefined {
  if (blob === '') return 'has no key data after its type';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return 'key data is not base64';
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.toString('base64') !== blob) return 'key data is not valid base64 (was it cut short?)';

  const reader = new WireReader(bytes);
  const innerType = reader.string()?.toString('latin1');
  if (innerType !== type) {
    return innerType === undefined
      ? 'key data is cut short'
      : `key data is a ${innerType} key but the line says ${type}`;
  }
  switch (type) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      const publicKey = reader.string();
      if (publicKey?.length !== 32) return 'key data is not a complete ed25519 key';
      if (type.startsWith('sk-') && reader.string() === undefined) return 'key data lacks its application';
      break;
    }
    case 'ssh-rsa': {
      const exponent = reader.string();
      const modulus = reader.string();
      if (!exponent || !modulus) return 'key data is not a complete RSA key';
      const bits = modulusBits(modulus);
      if (bits < MIN_RSA_BITS) return `RSA key has ${bits} bits; use at least ${MIN_RSA_BITS} (or an ed25519 key)`;
      break;
    }
    default: {
      const curve = reader.string()?.toString('latin1');
      const point = reader.string();
      const expected = type.replace(/^(sk-)?ecdsa-sha2-/, '').replace(/@openssh\.com$/, '');
      if (curve !== expected || !point) return 'key data is not a complete ECDSA key';
      if (type.startsWith('sk-') && reader.string() === undefined) return 'key data lacks its application';
    }
  }
  if (!reader.done()) return 'key data has bytes after the key (two keys pasted together?)';
  return undefined;
}

function modulusBits(modulus: Buffer): number {
  let i = 0;
  while (i < modulus.length && modulus[i] === 0) i++;
  if (i === modulus.length) return 0;
  return (modulus.length - i - 1) * 8 + (32 - Math.clz32(modulus[i]!));
}

class WireReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  string(): Buffer | undefined {
    if (this.offset + 4 > this.bytes.length) return undefined;
    const length = this.bytes.readUInt32BE(this.offset);
    if (this.offset + 4 + length > this.bytes.length) return undefined;
    const value = this.bytes.subarray(this.offset + 4, this.offset + 4 + length);
    this.offset += 4 + length;
    return value;
  }

  done(): boolean {
    return this.offset === this.bytes.length;
  }
}
