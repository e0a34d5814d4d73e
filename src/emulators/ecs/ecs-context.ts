import type { ClientTokens } from './client-tokens.js';
import type { CommandStore } from './commands.js';
import type { Faults } from './faults.js';
import type { Invocations } from './invocations.js';
import type { RequestParams } from './request-params.js';
import type { SandboxFleet } from './sandbox/sandbox-fleet.js';

/** What every action works on: the emulated region's state and its instances. */
export interface EcsContext {
  regionId: string;
  /** The account id in events, subjects and `{{ACS::AccountId}}`. */
  accountId: string;
  fleet: SandboxFleet;
  faults: Faults;
  commands: CommandStore;
  invocations: Invocations;
  clientTokens: ClientTokens;
}

/** A successful reply without its RequestId: PascalCase fields, as the API names them. */
export type ActionReply = Record<string, unknown>;

/** One API action: checks the request, does the work, says what to reply. Throws EcsApiError. */
export type ActionHandler = (params: RequestParams, context: EcsContext) => ActionReply | Promise<ActionReply>;
