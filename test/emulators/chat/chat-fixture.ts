import { afterEach } from 'vitest';
import { startChatEmulator, type ChatEmulator, type ChatEmulatorOptions } from '../../../src/emulators/chat/chat-emulator.js';

/**
 * A starter of chat emulators from `defaults` (each call's overrides on top); every emulator it
 * started is closed after its test. Call it at the top of a test file.
 */
export function chatEmulators(defaults: ChatEmulatorOptions): (overrides?: Partial<ChatEmulatorOptions>) => Promise<ChatEmulator> {
  const started: ChatEmulator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((emulator) => emulator.close()));
  });
  return async (overrides = {}) => {
    const emulator = await startChatEmulator({ ...defaults, ...overrides });
    started.push(emulator);
    return emulator;
  };
}

/** Subscribes an approval code the way rollcall does, through the open API, as the Lark app `app`. */
export async function subscribe(emulator: ChatEmulator, approvalCode: string, app: { appId: string; appSecret: string }): Promise<void> {
  const token = await fetch(`${emulator.url}/open-apis/auth/v3/tenant_access_token/internal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ app_id: app.appId, app_secret: app.appSecret }) });
  const { tenant_access_token: tenantToken } = (await token.json()) as { tenant_access_token: string };
  const answer = await fetch(`${emulator.url}/open-apis/approval/v4/approvals/${approvalCode}/subscribe`, { method: 'POST', headers: { authorization: `Bearer ${tenantToken}` } });
  if (answer.status !== 200) throw new Error(`subscribe answered ${answer.status}`);
}
