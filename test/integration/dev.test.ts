import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { devCommand } from '../../src/cli/commands/dev.js';
import type { AcceptedEvent } from '../../src/emulators/eventbridge/eventbridge-emulator.js';
import type { DeliveryAttempt } from '../../src/emulators/eventbridge/target-deliveries.js';
import { createLogger } from '../../src/config/logger.js';
import type { ReconcilerStatus } from '../../src/reconcile/status.js';
import { runCli } from '../cli/run-cli.js';
import { sandboxSkipReason } from './agent-harness.js';
import { gitIn, waitFor } from './daemon-harness.js';

const skip = await sandboxSkipReason();

/** What the chat emulator's groups have been sent so far: the replay at the start of the page's event stream. */
async function groupMessages(chat: string): Promise<string> {
  const aborter = new AbortController();
  const response = await fetch(`${chat}/chat/events`, { signal: aborter.signal });
  const reader = response.body!.getReader();
  let text = '';
  const deadline = Date.now() + 1_000;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))]);
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
  } finally {
    aborter.abort();
  }
  return text;
}

describe.skipIf(skip)('rollcall dev (npm start)', () => {
  it('runs the whole loop on the embedded default: a committed edit converges and shows in history; stopping leaves nothing', async () => {
    let stdout = '';
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((stdout += chunk.toString()), done()) });
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let started!: (dev: { url: string; repo: string; chat: string; eventbridge: string }) => void;
    const running = new Promise<{ url: string; repo: string; chat: string; eventbridge: string }>((resolve) => (started = resolve));
    const env = { ROLLCALL_LOG_LEVEL: 'warn' };
    const done = devCommand(
      { dir: 'desired-state', port: 0, instancesPerTag: 1, stopped, onStarted: started },
      { stdout: sink, stderr: process.stderr, env, cwd: process.cwd(), log: createLogger(env, { write: () => true }) },
    );
    const { url, repo, chat, eventbridge } = await running;
    try {
      expect(JSON.parse(stdout.split('\n')[0]!)).toMatchObject({ url, repo });
      expect(stdout).toContain('git commit');
      const status = async () => (await (await fetch(`${url}/status`)).json()) as ReconcilerStatus;
      await waitFor('the first revision applied', async () => (await status()).lastAppliedRevision === gitIn(repo, 'rev-parse', 'HEAD').trim(), 60_000);
      expect(path.resolve(repo)).not.toBe(path.resolve('.'));

      appendFileSync(path.join(repo, 'desired-state/users/E1003.yaml'), 'shell: /bin/sh\n');
      gitIn(repo, 'commit', '-qam', 'Give E1003 /bin/sh');
      const sha = gitIn(repo, 'rev-parse', 'HEAD').trim();
      const began = Date.now();
      await waitFor('the edit converged', async () => (await status()).lastAppliedRevision === sha, 30_000);
      expect(Date.now() - began).toBeLessThan(15_000);
      const history = await runCli(['history', 'E1003', '--repo', repo]);
      expect(history.code).toBe(0);
      expect(history.stdout).toContain('Give E1003 /bin/sh');
      expect(history.stdout).toMatch(/update user wangwu \(shell\)/);

      // An approval in DingTalk (its signed, encrypted callback posted to the stack's HTTPS source,
      // brought to rollcall by the approvals rule) becomes a commit, then an account.
      const approve = await runCli(['approve', '--emulator', chat, '--platform', 'dingtalk', '--flow', 'onboard', '--originator', 'hr-lin', '--approver', 'it-zhao', '--field', 'empId=E2001', '--field', 'login=qianjiu', '--field', 'name=Qian Jiu', '--field', 'role=devops']);
      expect(approve.stdout).toContain('eventbridge: acknowledged');
      expect(approve.code).toBe(0);
      const onboarded = await waitFor('the approval committed', () => {
        const head = gitIn(repo, 'log', '-1', '--format=%H%n%B', 'main');
        return head.includes('Request: onboard') ? head.split('\n')[0] : undefined;
      }, 30_000);
      expect(gitIn(repo, 'log', '-1', '--format=%an|%cn|%s', onboarded!).trim()).toBe('hr-lin|Rollcall|Onboard E2001 (qianjiu)');
      await waitFor('the approval converged', async () => (await status()).lastAppliedRevision === onboarded, 30_000);
      // The scratch repo's work tree followed the branch: nothing looks reverted.
      expect(gitIn(repo, 'status', '--porcelain')).toBe('');
      const onboardHistory = await runCli(['history', 'E2001', '--repo', repo]);
      expect(onboardHistory.stdout).toContain('Onboard E2001 (qianjiu)');
      expect(onboardHistory.stdout).toMatch(/hr-lin/);
      expect(onboardHistory.stdout).toMatch(/it-zhao/);
      expect(onboardHistory.stdout).toMatch(/applied/);

      // The DingTalk group heard of it: the request received, then the accounts applied.
      await waitFor('the group told', async () => (await groupMessages(chat)).includes('qianjiu'), 30_000);

      // The routing is production's: Cloud Assistant's TaskCompleted went through the synthesized
      // stack's rule on the bus to the ingress, and rollcall published its own events on its bus.
      const { deliveries } = (await (await fetch(`${eventbridge}/emulator/deliveries`)).json()) as { deliveries: DeliveryAttempt[] };
      const delivered = (rule: string) => deliveries.filter((attempt) => attempt.ruleName === rule && attempt.ok && attempt.request?.url === `${url}/ingress/eventbridge`).length;
      expect(delivered('approvals')).toBeGreaterThan(0);
      expect(delivered('cloud-assistant-results')).toBeGreaterThan(0);
      await waitFor('rollcall\'s events on its bus', async () => {
        const { events } = (await (await fetch(`${eventbridge}/emulator/events`)).json()) as { events: AcceptedEvent[] };
        const types = new Set(events.filter((accepted) => accepted.event.source === 'rollcall').map((accepted) => accepted.event.type));
        return types.has('rollcall:Request:Committed') && types.has('rollcall:Revision:Applied');
      }, 10_000);

      // Self-service in Lark (through the bus too): the requester's own record, found by its Lark id.
      const grant = await runCli(['approve', '--emulator', chat, '--platform', 'lark', '--flow', 'grant', '--originator', 'ou_7d8a6e6df7621556ce0d21922b676706', '--field', 'role=oncall']);
      expect(grant.stdout).toContain('eventbridge: acknowledged');
      await waitFor('the grant committed', () => gitIn(repo, 'show', 'main:desired-state/users/E1011.yaml').includes('oncall'), 30_000);
      expect(gitIn(repo, 'log', '-1', '--format=%s', 'main').trim()).toBe('Grant E1011 (fengsan)');

      // The checkout itself is never committed into.
      expect(gitIn(process.cwd(), 'status', '--porcelain', '--', 'desired-state')).toBe('');
    } finally {
      stop();
      expect(await done).toBe(0);
    }
    expect(existsSync(repo)).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 180_000);
});
