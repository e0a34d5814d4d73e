import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/**
 * The PATH for every program the fleet starts, on the host and inside instances alike: a fixed one,
 * so neither the caller's environment nor a writable directory on it decides which `mount` runs as
 * root. It is also the PATH a script sees, as on a stock Linux image.
 */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Programs the fleet runs, and the package that brings each on Debian. */
const REQUIRED_TOOLS: Readonly<Record<string, string>> = {
  setpriv: 'util-linux',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  mount: 'mount',
  env: 'coreutils',
  sleep: 'coreutils',
  sh: 'dash (or any POSIX sh)',
};

/** The required programs not found on SYSTEM_PATH, with their package: `nsenter (util-linux)`. */
export async function findMissingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(REQUIRED_TOOLS)) {
    if (!(await isOnSystemPath(tool))) missing.push(`${tool} (${pkg})`);
  }
  return missing;
}

async function isOnSystemPath(tool: string): Promise<boolean> {
  for (const dir of SYSTEM_PATH.split(':')) {
    try {
      await access(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory: try the next
    }
  }
  return false;
}
