import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startChatEmulator, type ChatEmulator } from '../../src/emulators/chat/chat-emulator.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { waitFor } from '../integration/daemon-harness.js';

/**
 * A process that holds the state store and sends its notifications (notify-process.ts: the real
 * outbox, chat notifier and Lark bot client) is SIGKILLed twice in the middle of a burst and
 * restarted on the same state folder each time; at the end every result was delivered exactly
 * once: each login is named in exactly one message the chat emulator accepted, across all runs.
 *
 * Why nothing is tolerated, not even one duplicate: the one moment a kill could make a duplicate
 * that no design can avoid is between the platform's success reply and the store marking the entry
 * sent (microseconds: the mark is the next synchronous step after the reply is read). The kills
 * here never land there. The first lands while a request is on its way, before the platform has
 * seen it (a recording proxy in front of the emulator kills the process instead of forwarding);
 * the second lands when no request is in flight and the last reply is long read. So a duplicate
 * means a real fault: a mark after something slow, a digest resent whole after part of it was
 * confirmed, a key stored twice by the restarted producer.
 */

const RESULTS = 150;
const EVERY_MS = 25;
const CHILD = path.resolve('test/reliability/notify-process.ts');
const LK = { hookToken: '7d0b6c1e-kill-lark-hook-token', secret: 'killLarkSecret0123' };
const GROUP = 'kill-lark';
const login = (n: number) => `kill${String(n).padStart(3, '0')}`;

interface Child {
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Whether it printed `{"done":true}` (everything produced, nothing pending). */
  done(): boolean;
  killNow(): void;
  stderr: string[];
}

/** The chat emulator behind a proxy that records every reply and can kill the sender while a request is on its way. */
interface RecordingProxy {
  url: string;
  /** The platform's `code` of each reply forwarded. */
  codes: number[];
  requests: number;
  inFlight: number;
  /** Date.now() when the last reply went back. */
  lastAnswerAt: number;
  /** Called with each request's number (1, 2, …) before it is forwarded; true: it is not (the connection is dropped). */
  intercept?: (request: number) => boolean;
  close(): Promise<void>;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startProxy(target: string): Promise<RecordingProxy> {
  const proxy: RecordingProxy = { url: '', codes: [], requests: 0, inFlight: 0, lastAnswerAt: 0, close: async () => {} };
  const server: Server = createServer((request, response) => {
    const number = ++proxy.requests;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (proxy.intercept?.(number)) {
        response.destroy();
        return;
      }
      proxy.inFlight++;
      void fetch(`${target}${request.url ?? '/'}`, { method: request.method ?? 'POST', headers: { 'content-type': request.headers['content-type'] ?? 'application/json' }, body: Buffer.concat(chunks) })
        .then(async (answer) => {
          const text = await answer.text();
          const code = (JSON.parse(text) as { code?: number }).code;
          proxy.codes.push(code ?? -1);
          response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' });
          response.end(text);
        })
        .catch(() => response.destroy())
        .finally(() => {
          proxy.inFlight--;
          proxy.lastAnswerAt = Date.now();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((resolve) => server.close(() => resolve()));
  return proxy;
}

function startChild(stateDir: string, webhook: string): Child {
  const env = {
    ...process.env,
    NOTIFY_STATE_DIR: stateDir,
    NOTIFY_PLATFORM: 'lark',
    NOTIFY_WEBHOOK: webhook,
    NOTIFY_SECRET: LK.secret,
    NOTIFY_COUNT: String(RESULTS),
    NOTIFY_EVERY_MS: String(EVERY_MS),
    ROLLCALL_LOG_LEVEL: 'info',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.includes('"done":true')) done = true;
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  cleanups.push(async () => {
    killNow();
    await exited;
  });
  return { exited, done: () => done, killNow, stderr };
}

/** Entries the store holds unsent, read while no process has it open. */
function pendingIn(stateDir: string): number {
  const store = StateStore.open(stateDir);
  try {
    return store.pendingCount();
  } finally {
    store.close();
  }
}

describe('SIGKILL during a burst of notifications, then restart', () => {
  let emulator: ChatEmulator;

  it(`delivers each of ${RESULTS} results exactly once across two kills and three runs`, async () => {
    emulator = await startChatEmulator({
      dingtalk: { appKey: 'dingkillnotify0001', appSecret: 'unused' },
      lark: { appId: 'cli_killnotify00001', appSecret: 'unused' },
      robots: { dingtalk: [], lark: [{ ...LK, group: GROUP }] },
    });
    cleanups.push(() => emulator.close());
    const proxy = await startProxy(emulator.url);
    cleanups.push(() => proxy.close());
    const stateDir = mkdtempSync(path.join(tmpdir(), 'rollcall-notify-kill-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const webhook = `${proxy.url}/open-apis/bot/v2/hook/${LK.hookToken}`;

    // Run 1: killed while its 4th request is on its way, before the platform sees it.
    const first = startChild(stateDir, webhook);
    proxy.intercept = (request) => {
      if (request !== 4) return false;
      first.killNow();
      return true;
    };
    expect(await first.exited).toBe(null);
    proxy.intercept = undefined;
    const acceptedBefore = emulator.robots.messages(GROUP).length;
    expect(acceptedBefore).toBe(3);
    expect(first.done()).toBe(false);

    // Run 2: killed between two sends, once it has sent two more, while results are still arriving.
    const second = startChild(stateDir, webhook);
    const requestsBefore = proxy.requests;
    await waitFor('two more requests answered, and a quiet moment', () => proxy.requests >= requestsBefore + 2 && proxy.inFlight === 0 && Date.now() - proxy.lastAnswerAt >= 250, 20_000);
    second.killNow();
    expect(await second.exited).toBe(null);
    expect(second.done(), 'run 2 finished before the kill: the burst is too short to kill it mid-way').toBe(false);
    const pendingAfterKills = pendingIn(stateDir);
    expect(emulator.robots.messages(GROUP).length).toBeGreaterThan(acceptedBefore);

    // Run 3: to the end.
    const third = startChild(stateDir, webhook);
    expect(await third.exited, third.stderr.join('\n')).toBe(0);
    expect(third.done()).toBe(true);
    expect(pendingIn(stateDir)).toBe(0);

    const messages = emulator.robots.messages(GROUP);
    const inMessages = new Map<string, number[]>();
    for (const message of messages) {
      for (const name of new Set(JSON.stringify(message.body).match(/kill\d{3}/g) ?? [])) inMessages.set(name, [...(inMessages.get(name) ?? []), message.seq]);
    }
    const wrong = Array.from({ length: RESULTS }, (_, n) => login(n))
      .map((name) => ({ name, messages: inMessages.get(name) ?? [] }))
      .filter((entry) => entry.messages.length !== 1);
    expect(wrong, `results not delivered exactly once (pending after the kills: ${pendingAfterKills})`).toEqual([]);
    // Every reply the process got was a success; the request cut by the first kill never reached the platform.
    expect(proxy.codes.every((code) => code === 0), `replies: ${proxy.codes.join(' ')}`).toBe(true);
    expect(proxy.codes).toHaveLength(messages.length);
    expect(proxy.requests).toBe(messages.length + 1);
  }, 60_000);
});
