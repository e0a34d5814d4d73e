import { RollcallError } from '../config/errors.js';
import type { Git } from './fast-import.js';

/**
 * Every ref that `patterns` name (a full ref name, or a prefix ending in `/` such as
 * `refs/heads/rollcall/`) → its sha, from one `for-each-ref`. A ref that does not exist is absent.
 */
export async function readRefs(git: Git, patterns: readonly string[]): Promise<Map<string, string>> {
  const text = (await git(['for-each-ref', '--format=%(objectname) %(refname)', ...patterns])).text;
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) found.set(line.slice(space + 1).trim(), line.slice(0, space));
  }
  return found;
}

/**
 * Moves refs in one transaction: each `from` is the value expected (absent: the ref must not exist
 * yet). true when all moved; 'lost' when a ref was not as expected; 'busy' when another git held a
 * ref's lock.
 */
export async function moveRefs(git: Git, moves: readonly { ref: string; to: string; from?: string }[]): Promise<true | 'lost' | 'busy'> {
  const lines = ['start', ...moves.map((move) => (move.from === undefined ? `create ${move.ref} ${move.to}` : `update ${move.ref} ${move.to} ${move.from}`)), 'prepare', 'commit', ''];
  // Verbs of a transaction print "<verb>: ok", so simple-git does not wait after a silent git.
  const result = await git(['update-ref', '-m', 'rollcall: approval', '--stdin'], { input: lines.join('\n'), okExitCodes: [0, 128] });
  if (result.exitCode === 0) return true;
  if (/is at [0-9a-f]+ but expected|reference already exists|but expected|unable to resolve reference/.test(result.stderr)) return 'lost';
  if (/File exists|Unable to create .*\.lock/.test(result.stderr)) return 'busy';
  throw new RollcallError('git', `could not move ${moves.length > 3 ? `${moves.length} refs` : moves.map((move) => move.ref).join(' and ')}: ${result.stderr.trim()}`);
}
