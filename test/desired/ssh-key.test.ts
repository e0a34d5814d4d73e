import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isKeyFingerprint, keyFingerprint, normalizeKeyLine, parseSshKey } from '../../src/desired/ssh-key.js';
import { generateSshKey, sshWire } from './ssh-test-keys.js';

// Real keys from ssh-keygen, made once for the file (RSA 3072 takes a fraction of a second).
const ed25519 = generateSshKey('ed25519', { comment: 'alice@laptop' });
const rsa3072 = generateSshKey('rsa', { bits: 3072, comment: 'alice@workstation' });
const rsa2048 = generateSshKey('rsa', { bits: 2048 });
const rsa1024 = generateSshKey('rsa', { bits: 1024 });
const ecdsa256 = generateSshKey('ecdsa', { bits: 256, comment: 'alice@mac' });
const ecdsa521 = generateSshKey('ecdsa', { bits: 521 });

const ED = `${ed25519.type} ${ed25519.blob}`;
const KEY_TYPES = 'ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com';

/** The ed25519 key's wire fields, to rebuild it with something missing or added. */
const ED_PUBLIC = Buffer.from(ed25519.blob, 'base64').subarray(4 + 'ssh-ed25519'.length + 4);
const P256_POINT = Buffer.concat([Buffer.from([4]), randomBytes(64)]);

describe('parseSshKey: real keys', () => {
  it('reads an ed25519 key', () => {
    expect(ed25519.type).toBe('ssh-ed25519');
    expect(parseSshKey(ed25519.line)).toEqual({ ok: true, key: { type: 'ssh-ed25519', blob: ed25519.blob, comment: 'alice@laptop' } });
  });

  it('reads an RSA key of 3072 bits', () => {
    expect(parseSshKey(rsa3072.line)).toEqual({ ok: true, key: { type: 'ssh-rsa', blob: rsa3072.blob, comment: 'alice@workstation' } });
  });

  it('reads an RSA key of exactly 2048 bits', () => {
    expect(parseSshKey(rsa2048.line)).toMatchObject({ ok: true, key: { type: 'ssh-rsa', blob: rsa2048.blob } });
  });

  it('reads ECDSA keys on P-256 and P-521', () => {
    expect(parseSshKey(ecdsa256.line)).toEqual({ ok: true, key: { type: 'ecdsa-sha2-nistp256', blob: ecdsa256.blob, comment: 'alice@mac' } });
    expect(parseSshKey(ecdsa521.line)).toMatchObject({ ok: true, key: { type: 'ecdsa-sha2-nistp521', blob: ecdsa521.blob } });
  });

  it('reads a key without a comment, and leaves comment out', () => {
    const parsed = parseSshKey(ED);
    expect(parsed).toEqual({ ok: true, key: { type: 'ssh-ed25519', blob: ed25519.blob } });
    expect(parsed.ok && 'comment' in parsed.key).toBe(false);
    expect(parsed.ok && 'options' in parsed.key).toBe(false);
  });

  it('keeps a comment with spaces (inner runs folded to one space)', () => {
    expect(parseSshKey(`${ED} Alice Smith (old laptop)`)).toEqual({ ok: true, key: { type: 'ssh-ed25519', blob: ed25519.blob, comment: 'Alice Smith (old laptop)' } });
    expect(parseSshKey(`${ED} Alice   Smith`)).toMatchObject({ ok: true, key: { comment: 'Alice Smith' } });
  });

  it('accepts tabs between fields and white space around the line', () => {
    expect(parseSshKey(`  ${ed25519.type}\t${ed25519.blob}\talice@laptop  `)).toEqual({ ok: true, key: { type: 'ssh-ed25519', blob: ed25519.blob, comment: 'alice@laptop' } });
  });

  it('reads security-key (sk-) types with their application', () => {
    const skEd = sshWire('sk-ssh-ed25519@openssh.com', ED_PUBLIC, 'ssh:');
    expect(parseSshKey(`sk-ssh-ed25519@openssh.com ${skEd} yubikey`)).toEqual({ ok: true, key: { type: 'sk-ssh-ed25519@openssh.com', blob: skEd, comment: 'yubikey' } });
    const skEcdsa = sshWire('sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', P256_POINT, 'ssh:');
    expect(parseSshKey(`sk-ecdsa-sha2-nistp256@openssh.com ${skEcdsa}`)).toMatchObject({ ok: true, key: { type: 'sk-ecdsa-sha2-nistp256@openssh.com' } });
  });
});

describe('parseSshKey: options', () => {
  it.each([
    ['from="10.0.0.0/8",no-agent-forwarding'],
    ['from="10.0.0.1,10.0.0.2",no-pty'],
    ['command="/usr/local/bin/backup --dir /srv/data",no-port-forwarding'],
    ['command="echo \\"hello world\\"",no-pty'],
    ['environment="PATH=/usr/bin:/bin"'],
    ['restrict,pty,port-forwarding'],
    ['expiry-time="20271231",principals="alice,bob",permitopen="db:5432",permitlisten="8080",tunnel="1"'],
    ['NO-PTY,From="10.0.0.0/8"'],
    ['cert-authority,no-touch-required,verify-required,no-user-rc,user-rc,no-x11-forwarding,x11-forwarding,agent-forwarding'],
  ])('reads %s', (options) => {
    expect(parseSshKey(`${options} ${ED} alice@laptop`)).toEqual({ ok: true, key: { options, type: 'ssh-ed25519', blob: ed25519.blob, comment: 'alice@laptop' } });
  });

  it('ends the options at the first blank outside quotes', () => {
    const options = 'command="a  b\tc"';
    expect(parseSshKey(`${options}   ${ED}`)).toEqual({ ok: true, key: { options, type: 'ssh-ed25519', blob: ed25519.blob } });
  });
});

describe('parseSshKey: errors', () => {
  const rsaWire = Buffer.from(rsa3072.blob, 'base64');
  const exponentOnly = (() => {
    const typeLength = rsaWire.readUInt32BE(0);
    const exponentEnd = 4 + typeLength + 4 + rsaWire.readUInt32BE(4 + typeLength);
    return rsaWire.subarray(0, exponentEnd).toString('base64');
  })();

  it.each([
    ['a newline', `${ED}\nssh-ed25519 ${ed25519.blob}`, 'must be one line without control characters'],
    ['a trailing newline', `${ED}\n`, 'must be one line without control characters'],
    ['a carriage return', `${ED} alice\r`, 'must be one line without control characters'],
    ['a NUL', `${ED} al\u0000ice`, 'must be one line without control characters'],
    ['nothing', '', 'is empty'],
    ['blanks only', ' \t ', 'is empty'],
    ['a private key header', '-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmU', 'looks like a private key or PEM file: paste the public key (the .pub file) instead'],
    ['a PEM public key header', '  -----BEGIN PUBLIC KEY----- MCowBQYDK2VwAyEA', 'looks like a private key or PEM file: paste the public key (the .pub file) instead'],
    ['an unclosed quote in the options', `command="ls ${ED}`, 'has an unclosed double quote in its options'],
    ['options and nothing else', 'no-pty,restrict', 'has no key after its options (expected "[options] type base64 [comment]")'],
    ['a blob without its type', ed25519.blob, 'has no key after its options (expected "[options] type base64 [comment]")'],
    ['an unknown option', `no-pty,bogus ${ED}`, 'has an unknown option "bogus"'],
    ['an unknown option with a value', `bogus="x y" ${ED}`, 'has an unknown option "bogus"'],
    ['an empty option', `no-pty,,restrict ${ED}`, 'has an unknown option ""'],
    ['a valued option without its value', `from ${ED}`, 'has an unknown option "from" (it takes a value: from="…")'],
    ['a valueless option given a value', `no-pty="yes" ${ED}`, 'has an unknown option "no-pty"'],
    ['an unknown type after options', `no-pty ssh-dss ${ed25519.blob}`, `unknown key type "ssh-dss" (expected one of ${KEY_TYPES})`],
    ['a type without data', 'ssh-ed25519', 'has no key data after its type'],
    ['options and a type without data', 'no-pty ssh-ed25519  ', 'has no key data after its type'],
    ['data that is not base64', 'ssh-ed25519 AAAA$$$$', 'key data is not base64'],
    ['padding in the middle', 'ssh-ed25519 AA==AAAA', 'key data is not base64'],
    ['data cut by one character', `ssh-ed25519 ${ed25519.blob.slice(0, -1)}`, 'key data is not valid base64 (was it cut short?)'],
    ['data too short for a type', 'ssh-ed25519 AAAA', 'key data is cut short'],
    ['a type longer than the data', `ssh-ed25519 ${Buffer.from([0, 0, 0, 11, 115, 115, 104]).toString('base64')}`, 'key data is cut short'],
    ['an RSA blob labelled ssh-ed25519', `ssh-ed25519 ${rsa3072.blob}`, 'key data is a ssh-rsa key but the line says ssh-ed25519'],
    ['an ed25519 blob labelled ssh-rsa', `ssh-rsa ${ed25519.blob}`, 'key data is a ssh-ed25519 key but the line says ssh-rsa'],
    ['a P-256 blob labelled P-384', `ecdsa-sha2-nistp384 ${ecdsa256.blob}`, 'key data is a ecdsa-sha2-nistp256 key but the line says ecdsa-sha2-nistp384'],
    ['an ed25519 key cut short', `ssh-ed25519 ${ed25519.blob.slice(0, 40)}`, 'key data is not a complete ed25519 key'],
    ['an ed25519 key of 31 bytes', `ssh-ed25519 ${sshWire('ssh-ed25519', ED_PUBLIC.subarray(1))}`, 'key data is not a complete ed25519 key'],
    ['an sk-ed25519 key without application', `sk-ssh-ed25519@openssh.com ${sshWire('sk-ssh-ed25519@openssh.com', ED_PUBLIC)}`, 'key data lacks its application'],
    ['an RSA key without modulus', `ssh-rsa ${exponentOnly}`, 'key data is not a complete RSA key'],
    ['an RSA key of 1024 bits', rsa1024.line, 'RSA key has 1024 bits; use at least 2048 (or an ed25519 key)'],
    ['an RSA key with a zero modulus', `ssh-rsa ${sshWire('ssh-rsa', Buffer.from([1, 0, 1]), Buffer.alloc(256))}`, 'RSA key has 0 bits; use at least 2048 (or an ed25519 key)'],
    ['an ECDSA key on the wrong curve', `ecdsa-sha2-nistp256 ${sshWire('ecdsa-sha2-nistp256', 'nistp384', P256_POINT)}`, 'key data is not a complete ECDSA key'],
    ['an ECDSA key without its point', `ecdsa-sha2-nistp256 ${sshWire('ecdsa-sha2-nistp256', 'nistp256')}`, 'key data is not a complete ECDSA key'],
    ['an sk-ECDSA key without application', `sk-ecdsa-sha2-nistp256@openssh.com ${sshWire('sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', P256_POINT)}`, 'key data lacks its application'],
    ['two keys in one blob', `ssh-ed25519 ${sshWire('ssh-ed25519', ED_PUBLIC, 'ssh-ed25519')}`, 'key data has bytes after the key (two keys pasted together?)'],
  ])('rejects %s', (_what, line, error) => {
    expect(parseSshKey(line)).toEqual({ ok: false, error });
  });

  it('rejects a blob cut on a base64 boundary whatever its type', () => {
    expect(parseSshKey(`ssh-rsa ${rsa3072.blob.slice(0, 200)}`)).toEqual({ ok: false, error: 'key data is not a complete RSA key' });
    expect(parseSshKey(`ecdsa-sha2-nistp256 ${ecdsa256.blob.slice(0, 60)}`)).toEqual({ ok: false, error: 'key data is not a complete ECDSA key' });
  });

  it('never throws, whatever the line', () => {
    for (const line of ['"', '""', '\\', 'ssh-rsa =', 'ssh-rsa ====', 'a b c d e', `${'x,'.repeat(1000)} ${ED}`, '\u00a0', 'ssh-ed25519 \u00e9']) {
      expect(() => parseSshKey(line)).not.toThrow();
    }
  });

  // The line is taken as options whenever its first word is not a known type, so an unknown type
  // at the start (a DSA key, a typo) is reported as an unknown option: "has an unknown option
  // "ssh-dss"" for a line that has no options.
  it('names an unknown key type at the start of the line as a key type', () => {
    expect(parseSshKey(`ssh-dss ${ed25519.blob} alice@old`)).toEqual({ ok: false, error: `unknown key type "ssh-dss" (expected one of ${KEY_TYPES})` });
  });

  // The control-character check runs first, so the private-key message is unreachable for a
  // private key pasted as ssh-keygen wrote it (several lines).
  it('says a multi-line private key is a private key', () => {
    expect(parseSshKey(ed25519.privateKey)).toEqual({ ok: false, error: 'looks like a private key or PEM file: paste the public key (the .pub file) instead' });
  });
});

describe('normalizeKeyLine and keyFingerprint', () => {
  const tidy = `${ED} c`;
  const messy = `  ${ed25519.type}   ${ed25519.blob}  c `;

  it('trims the line and folds inner blanks and tabs to one space', () => {
    expect(normalizeKeyLine(messy)).toBe(tidy);
    expect(normalizeKeyLine(`\t${ed25519.type}\t \t${ed25519.blob}\tc\t`)).toBe(tidy);
    expect(normalizeKeyLine(tidy)).toBe(tidy);
  });

  it('gives the same fingerprint to the same key written with other spacing', () => {
    expect(keyFingerprint(messy)).toBe(keyFingerprint(tidy));
  });

  it('is sha256: and the hex sha256 of the folded line', () => {
    expect(keyFingerprint(messy)).toBe(`sha256:${createHash('sha256').update(tidy).digest('hex')}`);
    expect(keyFingerprint(messy)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('tells lines apart that differ in comment or options', () => {
    expect(keyFingerprint(`${ED} d`)).not.toBe(keyFingerprint(tidy));
    expect(keyFingerprint(`no-pty ${ED} c`)).not.toBe(keyFingerprint(tidy));
  });

  it('recognizes a fingerprint and nothing else', () => {
    expect(isKeyFingerprint(keyFingerprint(tidy))).toBe(true);
    expect(isKeyFingerprint(tidy)).toBe(false);
    expect(isKeyFingerprint(`sha256:${'A'.repeat(64)}`)).toBe(false);
    expect(isKeyFingerprint(`sha256:${'a'.repeat(63)}`)).toBe(false);
    expect(isKeyFingerprint(`SHA256:${'a'.repeat(64)}`)).toBe(false);
  });
});
