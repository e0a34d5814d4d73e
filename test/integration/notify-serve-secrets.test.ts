import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChatEmulator, type ChatEmulator } from '../../src/emulators/chat/chat-emulator.js';
import type { EcsEmulator } from '../../src/emulators/ecs/ecs-emulator.js';
import { dingtalkSign } from '../../src/notify/robots/sign.js';
import type { ReconcilerStatus } from '../../src/reconcile/status.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { spawnServe, type ServeProcess } from '../reliability/serve-process.js';
import { sandboxSkipReason } from './agent-harness.js';
import { emulatorEnv, startExampleFleet, waitFor } from './daemon-harness.js';

/**
 * A full `rollcall serve` (a child process, against the ECS emulator's sandbox fleet) whose ops
 * channel is the chat emulator's DingTalk robot: first with the wrong secret in
 * ROLLCALL_DINGTALK_SECRET (the robot refuses with 310000, /status says so and what to fix), then
 * restarted on the same state with the right one (what was refused is delivered). Every line the
 * two processes wrote on stderr, and /status as it was after the refusal and after the delivery,
 * are searched for the robot's access_token, both secrets and every signature either process
 * could have sent: none may appear.
 */

const skip = await sandboxSkipReason();
const ROBOT = { accessToken: 'dtServeSecretsAccessToken0123456789', secret: 'SECserveSecretsRightSecret0123456789', wrong: 'SECserveSecretsWrongSecret9876543210' };

const running = new Set<ServeProcess | EcsEmulator | ChatEmulator>();
afterAll(async () => {
  for (const thing of running) await ('kill' in thing ? thing.kill() : thing.close());
});

describe.skipIf(skip)('rollcall serve with a chat robot: the wrong secret, then the right one', () => {
  it('reports the refusal in /status and the log, delivers after the fix, and never writes the token, a secret or a sign', async () => {
    const chat = await startChatEmulator({
      dingtalk: { appKey: 'dingservesecrets01', appSecret: 'unused' },
      lark: { appId: 'cli_servesecrets0001', appSecret: 'unused' },
      robots: { dingtalk: [{ accessToken: ROBOT.accessToken, secret: ROBOT.secret, group: 'ops-dingtalk' }], lark: [] },
    });
    running.add(chat);
    const fleet = await startExampleFleet();
    running.add(fleet);
    const { repo } = desiredStateRepo();
    const stateDir = mkdtempSync(path.join(tmpdir(), 'rollcall-serve-secrets-'));
    const lines: string[] = [];
    const statuses: string[] = [];
    const began = Date.now();
    const env = (secret: string) =>
      emulatorEnv(fleet, {
        ROLLCALL_LOG_LEVEL: 'debug',
        ROLLCALL_OPS_CHANNEL: 'ops-dingtalk',
        ROLLCALL_DINGTALK_WEBHOOK: `${chat.url}/robot/send?access_token=${ROBOT.accessToken}`,
        ROLLCALL_DINGTALK_SECRET: secret,
      });
    const status = async (url: string) => {
      const text = await (await fetch(`${url}/status`)).text();
      statuses.push(text);
      return JSON.parse(text) as ReconcilerStatus;
    };
    try {
      // The wrong secret: the first apply's messages are refused, and stay in the outbox.
      const first = spawnServe({ repo, stateDir, env: env(ROBOT.wrong), onLog: (line) => lines.push(line) });
      running.add(first);
      const firstUrl = (await first.url)!;
      const refused = await waitFor('the robot refusal in /status', async () => {
        const current = await status(firstUrl);
        return current.robots?.[0]?.lastFailure?.code === 310000 && current.outboxPending > 0 && current;
      }, 90_000);
      expect(refused.robots![0]!.lastFailure!.fix).toMatch(/signature does not match.*ROLLCALL_DINGTALK_SECRET/);
      expect(refused.robots![0]!.target).toMatch(/access_token=\*\*\*/);
      expect(chat.robots.messages('ops-dingtalk')).toEqual([]);
      expect(await first.terminate()).toBe(0);
      running.delete(first);
      const logged = lines.map((line) => JSON.parse(line) as { msg: string; code?: number; fix?: string });
      expect(logged.some((line) => line.msg === 'robot refused a message' && line.code === 310000 && /signature does not match/.test(line.fix ?? ''))).toBe(true);

      // The right secret, same state: what was refused goes out.
      const second = spawnServe({ repo, stateDir, env: env(ROBOT.secret), onLog: (line) => lines.push(line) });
      running.add(second);
      const secondUrl = (await second.url)!;
      await waitFor('the refused messages delivered', async () => (await status(secondUrl)).outboxPending === 0 && chat.robots.messages('ops-dingtalk').length > 0, 60_000);
      expect(await second.terminate()).toBe(0);
      running.delete(second);
    } finally {
      rmSync(repo, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
    expect(chat.robots.messages('ops-dingtalk').map((message) => message.body)).toEqual(expect.arrayContaining([expect.objectContaining({ msgtype: expect.any(String) })]));

    const all = [...lines, ...statuses].join('\n');
    expect(all).toContain('robot refused a message');
    for (const secret of [ROBOT.accessToken, ROBOT.secret, ROBOT.wrong]) expect(all.includes(secret), `${secret.slice(0, 8)}… is in the log or status`).toBe(false);
    expect(all).not.toMatch(/sign=(?!\*\*\*)/);
    // Every sign either process could have made (one per ms of the run, both secrets), against
    // every base64 run of sign length in what was written, plain or percent-encoded.
    const signs = new Set<string>();
    for (let at = began - 1_000; at <= Date.now(); at++) for (const secret of [ROBOT.secret, ROBOT.wrong]) signs.add(decodeURIComponent(dingtalkSign(at, secret)));
    const candidates = [...all.matchAll(/[A-Za-z0-9+/%]{40,}(?:=|%3D)/gi)].map((match) => safeDecode(match[0]));
    expect(candidates.filter((candidate) => signs.has(candidate))).toEqual([]);
  }, 180_000);
});

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
