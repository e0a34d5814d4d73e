import { z } from 'zod';
import { RollcallError } from './errors.js';

/**
 * How rollcall reaches the fleet, from flags and ROLLCALL_* variables, parsed once. Secrets are not
 * here: credentials come from the Alibaba Cloud credentials chain, by environment only.
 */
export const FleetAccess = z.object({
  /** Defaults to fleet.yaml's region. */
  region: z.string().regex(/^[a-z]{2}-[a-z0-9-]+$/, { error: 'must be a region id like cn-hangzhou' }).optional(),
  /** `host:port` of the ECS API (the emulator's, say); plain HTTP when it is a loopback address. */
  endpoint: z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$|^\[::1\](:\d+)?$/, { error: 'must be host:port, without a scheme' }).optional(),
  commandName: z.string().min(1).default('rollcall-agent'),
  concurrency: z.coerce.number().int().min(1).max(100).default(4),
  maxErrors: z.coerce.number().int().min(0).optional(),
  timeoutSeconds: z.coerce.number().int().min(10).max(86_400).default(600),
  agentInline: z.boolean().default(false),
});
export type FleetAccess = z.output<typeof FleetAccess>;

/** Flags win over the environment; a bad value is an error that names the flag and the variable. */
export function readFleetAccess(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): FleetAccess {
  const pick = (flag: string, variable: string) => (flags[flag] !== undefined ? flags[flag] : env[variable] === '' ? undefined : env[variable]);
  const input = {
    region: pick('region', 'ROLLCALL_REGION'),
    endpoint: pick('endpoint', 'ROLLCALL_ECS_ENDPOINT'),
    commandName: pick('command-name', 'ROLLCALL_COMMAND_NAME'),
    concurrency: pick('concurrency', 'ROLLCALL_CONCURRENCY'),
    maxErrors: pick('max-errors', 'ROLLCALL_MAX_ERRORS'),
    timeoutSeconds: pick('timeout', 'ROLLCALL_TIMEOUT'),
    agentInline: flags['agent-inline'] === true || env.ROLLCALL_AGENT_INLINE === '1' || env.ROLLCALL_AGENT_INLINE === 'true',
  };
  const result = FleetAccess.safeParse(Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const names: Record<string, string> = { region: '--region / ROLLCALL_REGION', endpoint: '--endpoint / ROLLCALL_ECS_ENDPOINT', concurrency: '--concurrency / ROLLCALL_CONCURRENCY', maxErrors: '--max-errors / ROLLCALL_MAX_ERRORS', timeoutSeconds: '--timeout / ROLLCALL_TIMEOUT', commandName: '--command-name / ROLLCALL_COMMAND_NAME' };
    throw new RollcallError('invalid-input', `${names[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}`);
  }
  return result.data;
}
