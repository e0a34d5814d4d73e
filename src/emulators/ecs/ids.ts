import { randomBytes, randomUUID } from 'node:crypto';

/*
 * Identifiers shaped like the service's. Random, so two emulators never hand out the same id.
 */

/** `c-…`: a command. */
export function newCommandId(): string {
  return `c-${randomBytes(10).toString('hex')}`;
}

/** `t-…`: a command invocation. */
export function newInvokeId(): string {
  return `t-${randomBytes(10).toString('hex')}`;
}

/** `f-…`: a file send. */
export function newFileInvokeId(): string {
  return `f-${randomBytes(10).toString('hex')}`;
}

/** An upper-case UUID, as the service's RequestIds are. */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}
