import type { ClientTokens } from './client-tokens.js';
import type { CommandStore } from './commands.js';
import type { Faults } from './faults.js';
import type { Invocations } from './invocations.js';
import type { RequestParams } from './request-params.js';
import type { SandboxFleet, SandboxInstance } from './sandbox/sandbox-fleet.js';
import type { VirtualInstances } from './virtual-instances.js';

/** What every action works on: the emulated region's state and its instances. */
export interface EcsContext {
  regionId: string;
  /** The account id in events, subjects and `{{ACS::AccountId}}`. */
  accountId: string;
  fleet: SandboxFleet;
  /** Instances the API serves with no sandbox behind them; see {@link servedInstances}. */
  virtual: VirtualInstances;
  faults: Faults;
  commands: CommandStore;
  invocations: Invocations;
  clientTokens: ClientTokens;
}

/** Every instance the API serves, by id: the fleet's and the virtual ones. */
export function servedInstances(context: EcsContext): SandboxInstance[] {
  const virtual = context.virtual.list();
  if (virtual.length === 0) return context.fleet.list();
  return [...context.fleet.list(), ...virtual].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The instance with this id, a sandbox or a virtual one. */
export function servedInstance(context: EcsContext, id: string): SandboxInstance | undefined {
  return context.fleet.get(id) ?? context.virtual.get(id);
}

/** A successful reply without its RequestId: PascalCase fields, as the API names them. */
export type ActionReply = Record<string, unknown>;

/** One API action: checks the request, does the work, says what to reply. Throws EcsApiError. */
export type ActionHandler = (params: RequestParams, context: EcsContext) => ActionReply | Promise<ActionReply>;
