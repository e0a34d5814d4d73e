import { EcsApiError, invalidParameter } from '../api-error.js';

/** Documented lengths of a command's descriptive fields. */
const MAX_NAME = 128;
const MAX_DESCRIPTION = 512;
const MAX_WORKING_DIR = 200;

/** `Name`: at most 128 characters (`CmdName.ExceedLimit`). */
export function checkCommandName(name: string): string {
  if (name.length > MAX_NAME) throw new EcsApiError(403, 'CmdName.ExceedLimit', `The length of the command name exceeds the upper limit: ${name.length} characters, at most ${MAX_NAME}.`);
  return name;
}

/** `Description`: at most 512 characters (`CmdDesc.ExceedLimit`). */
export function checkCommandDescription(description: string): string {
  if (description.length > MAX_DESCRIPTION) throw new EcsApiError(403, 'CmdDesc.ExceedLimit', `The length of the command description exceeds the upper limit: ${description.length} characters, at most ${MAX_DESCRIPTION}.`);
  return description;
}

/** `WorkingDir`: an absolute path of at most 200 characters (`InvalidParameter.WorkingDir`). */
export function checkWorkingDir(workingDir: string): string {
  if (workingDir === '') return workingDir;
  if (workingDir.length > MAX_WORKING_DIR || !workingDir.startsWith('/') || workingDir.includes('\0')) {
    throw invalidParameter('WorkingDir', `must be an absolute path of at most ${MAX_WORKING_DIR} characters`, 'InvalidParameter.WorkingDir');
  }
  return workingDir;
}

/** `Username`: the sandbox runs every script as root, so only root (or none) is accepted (`Operation.Forbidden`). */
export function checkUsername(username: string | undefined): void {
  if (username !== undefined && username !== 'root') {
    throw new EcsApiError(403, 'Operation.Forbidden', `The operation is not permitted: the emulator runs commands as root only, not as ${JSON.stringify(username)}.`);
  }
}

/** `RepeatMode`: only Once is emulated (`Operation.Forbidden`; an unknown mode is `InvalidRepeatMode.NotFound`). */
export function checkRepeatMode(repeatMode: string | undefined): void {
  if (repeatMode === undefined || repeatMode === 'Once') return;
  if (['Period', 'NextRebootOnly', 'EveryReboot', 'DryRun'].includes(repeatMode)) {
    throw new EcsApiError(403, 'Operation.Forbidden', `The operation is not permitted: the emulator runs commands once; RepeatMode ${repeatMode} is not emulated.`);
  }
  throw new EcsApiError(404, 'InvalidRepeatMode.NotFound', `The specified repeat mode does not exist: ${JSON.stringify(repeatMode)}.`);
}
