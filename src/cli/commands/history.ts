import path from 'node:path';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { isUrl } from './serve.js';

export interface HistoryOptions {
  who: string;
  repo: string;
  path: string;
  stateDir: string;
  json: boolean;
}

/**
 * `rollcall history <empId|login>`: every commit that touched the user (request, requester,
 * approvers, approval id from the trailers), then what was applied where and when (from the notes).
 */
export async function historyCommand(options: HistoryOptions, io: CliIo): Promise<number> {
  const [{ DesiredRepository }, { userHistory }, { renderUserHistory }] = await Promise.all([
    import('../../source/desired-repository.js'),
    import('../../source/user-history.js'),
    import('../../source/render-user-history.js'),
  ]);
  const repository = await DesiredRepository.open({
    repo: isUrl(options.repo) ? options.repo : path.resolve(io.cwd, options.repo),
    path: options.path,
    workDir: path.resolve(io.cwd, options.stateDir, 'repo'),
    env: io.env,
  });
  const history = await userHistory(repository.root, repository.path, options.who);
  const text = options.json ? JSON.stringify(history, null, 2) : renderUserHistory(history);
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return EXIT.ok;
}
