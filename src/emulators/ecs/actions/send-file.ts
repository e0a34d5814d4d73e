import { z } from 'zod';
import { EcsApiError, invalidParameter } from '../api-error.js';
import { base64Length, isBase64, MAX_FILE_OR_STOP_INSTANCES, SEND_FILE_LIMIT_BYTES, timeoutSeconds } from '../cloud-assistant-limits.js';
import type { ActionHandler } from '../ecs-context.js';
import { BooleanParam, IntegerParam, readParams } from '../request-params.js';
import { targetInstances } from './target-instances.js';

const MAX_NAME = 255;
const MAX_TARGET_DIR = 255;
const MAX_DESCRIPTION = 512;
const MAX_ACCOUNT_NAME = 64;
/** chmod's octal form, which is what the API documents. */
const FILE_MODE = /^[0-7]{3,4}$/;
/** A user or group name the instance could have (no leading dash, so it never reads as an option). */
const ACCOUNT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;

const SendFileParams = {
  Name: z.string(),
  TargetDir: z.string(),
  Content: z.string(),
  ContentType: z.string().optional(),
  Description: z.string().optional(),
  FileMode: z.string().optional(),
  FileOwner: z.string().optional(),
  FileGroup: z.string().optional(),
  Overwrite: BooleanParam.optional(),
  Timeout: IntegerParam.optional(),
};

/**
 * SendFile: writes `Content` (PlainText, or Base64 with `ContentType=Base64`; ≤ 32 KB once
 * base64-encoded) as `TargetDir/Name` on `InstanceId.N` (≤ 50), with `FileMode` (default 0644),
 * `FileOwner` and `FileGroup` (default root); an existing file is replaced only with
 * `Overwrite=true`. Replies `{InvokeId}` (`f-…`); DescribeSendFileResults tells how it went.
 */
export const sendFile: ActionHandler = (params, context) => {
  const request = readParams(SendFileParams, params);
  const earlier = context.clientTokens.recall('SendFile', params);
  if (earlier !== undefined) return earlier;
  if (request.Name.length > MAX_NAME) throw new EcsApiError(403, 'FileName.ExceedLimit', `The length of file name exceeds limit: ${request.Name.length} characters, at most ${MAX_NAME}.`);
  const description = request.Description ?? '';
  if (description.length > MAX_DESCRIPTION) throw new EcsApiError(403, 'FileDesc.ExceedLimit', `The length of file description exceeds limit: at most ${MAX_DESCRIPTION} characters.`);
  const targetDir = request.TargetDir;
  if (!targetDir.startsWith('/') || targetDir.length > MAX_TARGET_DIR || targetDir.includes('\0')) {
    throw new EcsApiError(400, 'FileTargetDir.Invalid', `The target directory of file is invalid: ${JSON.stringify(targetDir)}; use an absolute path of at most ${MAX_TARGET_DIR} characters.`);
  }
  const contentType = fileContentType(request.ContentType);
  if (contentType === 'Base64' && !isBase64(request.Content)) throw new EcsApiError(400, 'FileContent.DecodeError', 'The Content can not be base64 decoded.');
  const content = contentType === 'Base64' ? Buffer.from(request.Content, 'base64') : Buffer.from(request.Content, 'utf8');
  const encodedSize = base64Length(content.length);
  if (encodedSize > SEND_FILE_LIMIT_BYTES) {
    throw new EcsApiError(403, 'FileSize.ExceedLimit', `The length of file content exceeds limit: ${encodedSize} bytes base64-encoded, at most ${SEND_FILE_LIMIT_BYTES}.`);
  }
  const fileMode = request.FileMode ?? '0644';
  if (!FILE_MODE.test(fileMode)) throw new EcsApiError(400, 'FileMode.Invalid', `The mode of file is invalid: ${JSON.stringify(fileMode)}; use octal digits as chmod takes them, such as 0644.`);
  const fileOwner = accountName(request.FileOwner, 'FileOwner');
  const fileGroup = accountName(request.FileGroup, 'FileGroup');
  const instanceIds = targetInstances(params, context, MAX_FILE_OR_STOP_INSTANCES);
  const invocation = context.invocations.sendFile(
    {
      name: request.Name,
      targetDir,
      content,
      sentContent: request.Content,
      contentType,
      fileMode,
      fileOwner,
      fileGroup,
      overwrite: request.Overwrite ?? false,
      description,
      timeoutSeconds: timeoutSeconds(request.Timeout),
    },
    instanceIds,
  );
  const reply = { InvokeId: invocation.invokeId };
  context.clientTokens.remember('SendFile', params, reply);
  return reply;
};

function fileContentType(contentType: string | undefined): 'PlainText' | 'Base64' {
  if (contentType === undefined || contentType.toLowerCase() === 'plaintext') return 'PlainText';
  if (contentType.toLowerCase() === 'base64') return 'Base64';
  throw new EcsApiError(400, 'FileContentType.Invalid', `The ContentType of file is invalid: ${JSON.stringify(contentType)}; use PlainText or Base64.`);
}

function accountName(name: string | undefined, parameter: 'FileOwner' | 'FileGroup'): string {
  if (name === undefined) return 'root';
  if (name.length > MAX_ACCOUNT_NAME || !ACCOUNT_NAME.test(name)) {
    throw invalidParameter(parameter, `must be a user or group name of at most ${MAX_ACCOUNT_NAME} characters`, `InvalidParameter.${parameter}`);
  }
  return name;
}
