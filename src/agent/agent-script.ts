import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RollcallError } from '../config/errors.js';

/**
 * The agent as shipped: `rollcall-agent.sh` beside this file, the full agent, runnable as it stands.
 * It is too large to send with every invocation inside Cloud Assistant's size limit, so it is
 * installed once (SendFile) at {@link AGENT_INSTALL_PATH}, and the registered command is
 * {@link agentStub}: a few lines that check the installed file's sha256 and run it.
 */
export const AGENT_SCRIPT: string = readFileSync(new URL('./rollcall-agent.sh', import.meta.url), 'utf8');

/** sha256 (hex) of {@link AGENT_SCRIPT}: the stub refuses any other agent. */
export const AGENT_SHA256: string = createHash('sha256').update(AGENT_SCRIPT).digest('hex');

/** Where the agent is installed on an instance (root-only, beside its managed list). */
export const AGENT_INSTALL_PATH = '/var/lib/rollcall/rollcall-agent.sh';

/** The name of the Cloud Assistant command the stack registers. */
export const AGENT_COMMAND_NAME = 'rollcall-agent';

/** The stub's exit code when the installed agent is missing or not this rollcall's: install it, then retry. */
export const AGENT_MISSING_EXIT_CODE = 4;

/**
 * Cloud Assistant counts the script and its parameters together, base64-encoded: 24 KB in the
 * current documentation, 16 KB in older pages. rollcall builds for the smaller.
 */
export const CLOUD_ASSISTANT_MAX_BYTES = 16 * 1024;

/**
 * The registered command: `{{mode}}`, `{{ops}}` and `{{page}}` are Cloud Assistant parameters,
 * each inside single quotes and passed on as arguments, never as script text. Their values are
 * base64, digits or a mode name, which cannot leave the quotes; the agent checks them again.
 */
export function agentStub(sha256: string = AGENT_SHA256): string {
  return [
    '#!/bin/sh',
    '# rollcall agent stub: runs the installed agent if it is the one this rollcall ships.',
    `a=${AGENT_INSTALL_PATH}`,
    `want=${sha256}`,
    `have=$(sha256sum "$a" 2>/dev/null | cut -d' ' -f1)`,
    // SendFile takes 32 KB: the agent travels gzip-compressed and is unpacked here on first use.
    `[ "$have" != "$want" ] && [ -f "$a.gz" ] && gzip -dc "$a.gz" >"$a.new" && chmod 700 "$a.new" && mv -f "$a.new" "$a" && have=$(sha256sum "$a" | cut -d' ' -f1)`,
    `[ "$have" = "$want" ] || { printf '{"error":"agent-missing","want":"%s","have":"%s"}\\n' "$want" "$have"; exit ${AGENT_MISSING_EXIT_CODE}; }`,
    `exec sh "$a" '{{mode}}' '{{ops}}' '{{page}}'`,
    '',
  ].join('\n');
}

/** Bytes Cloud Assistant counts for a script and its parameter values: all of them base64-encoded. */
export function invocationSize(script: string, parameters: Readonly<Record<string, string>>): number {
  const base64Length = (text: string) => Math.ceil(Buffer.byteLength(text) / 3) * 4;
  return base64Length(script) + base64Length(JSON.stringify(parameters));
}

export type AgentMode = 'inventory' | 'apply';

/**
 * The parameters of one agent invocation, checked. Cloud Assistant pastes them into the script as
 * plain text inside single quotes, so each must come from an alphabet that cannot close a quote:
 * a mode name, base64, a page number. Anything else is refused before it leaves rollcall.
 */
export function agentParameters(mode: AgentMode, options: { ops?: string; page?: string } = {}): { mode: AgentMode; ops: string; page: string } {
  const ops = options.ops ?? '';
  const page = options.page ?? '';
  if (mode !== 'inventory' && mode !== 'apply') throw new RollcallError('internal', `agent mode must be inventory or apply, not ${JSON.stringify(mode)}`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(ops)) throw new RollcallError('internal', 'agent ops must be base64');
  if (!/^\d*$/.test(page)) throw new RollcallError('internal', 'agent page must be a number');
  return { mode, ops, page };
}
