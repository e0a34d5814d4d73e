import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { devCommand } from '../../src/cli/commands/dev.js';
import { createLogger } from '../../src/config/logger.js';
import { startChatEmulator } from '../../src/emulators/chat/chat-emulator.js';
import type { NotifyEvent } from '../../src/notify/events.js';
import { renderDingtalk } from '../../src/notify/render-dingtalk.js';
import { renderLark } from '../../src/notify/render-lark.js';
import { DingtalkRobot } from '../../src/notify/robots/dingtalk-robot.js';
import { LarkBot } from '../../src/notify/robots/lark-bot.js';
import { runCli } from '../cli/run-cli.js';
import { applied, received } from '../notify/render-fixtures.js';
import { sandboxSkipReason } from './agent-harness.js';

/**
 * The chat emulator's group page in a real browser: Debian's chromium driven by playwright-core
 * (never a browser playwright downloads). What the page's own script does with the event stream,
 * its Content-Security-Policy and the rendered cards are only seen for real here.
 */

/** Debian's chromium (`apt-get install chromium`): /usr/bin/chromium, else `chromium` on PATH. */
function findChromium(): string | undefined {
  const onPath = (process.env['PATH'] ?? '').split(path.delimiter).filter((dir) => dir !== '').map((dir) => path.join(dir, 'chromium'));
  return ['/usr/bin/chromium', ...onPath].find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const executablePath = findChromium();
if (executablePath === undefined) console.warn('skipping the group page browser tests: no chromium at /usr/bin/chromium or on PATH (apt-get install chromium)');
const sandboxSkip = executablePath === undefined ? undefined : await sandboxSkipReason();

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});

/** A new page in the one browser of this file (launched on first use, closed after all tests). */
async function newPage(): Promise<{ page: Page; problems: string[] }> {
  browser ??= await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox', '--headless'] });
  const page = await browser.newPage();
  // A CSP violation or a script error shows here (the page's script would silently stop otherwise).
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return { page, problems };
}

/** The messages of one group's column, oldest first. */
const groupMessages = (page: Page, group: string): Locator => page.locator(`section.group[data-group="${group}"] li.message`);

/** Marks the document so a reload (which would show new messages without the live stream) is seen. */
async function markDocument(page: Page): Promise<void> {
  // Expressions as strings: the browser's globals are not in this project's (Node) types.
  await page.evaluate("document.documentElement.setAttribute('data-test-loaded', 'once')");
}

async function expectSameDocument(page: Page): Promise<void> {
  expect(await page.evaluate("document.documentElement.getAttribute('data-test-loaded')")).toBe('once');
}

/** Whether the group's list shows its end: the newest message in view. */
const scrolledToBottom = (page: Page, group: string) =>
  page.locator(`section.group[data-group="${group}"] ol.messages`).evaluate((list) => list.scrollHeight - list.scrollTop - list.clientHeight < 2);

describe.skipIf(executablePath === undefined)('the group page in headless Chromium', () => {
  it("renders rollcall's own messages with their link buttons and card colours, and appends a new one live", async () => {
    const chat = await startChatEmulator({
      dingtalk: { appKey: 'dingbrowserpage01', appSecret: 'dingsecret' },
      lark: { appId: 'cli_0123456789abcdef', appSecret: 'larksecret' },
      robots: {
        dingtalk: [{ accessToken: 'dt-page', secret: 'SECpage', group: 'ops', name: 'rollcall' }],
        lark: [{ hookToken: 'lk-page', secret: 'larkpage', group: 'hr', name: 'rollcall' }],
      },
    });
    const dingtalk = new DingtalkRobot({ webhookUrl: `${chat.url}/robot/send?access_token=dt-page`, secret: 'SECpage' });
    const lark = new LarkBot({ webhookUrl: `${chat.url}/open-apis/bot/v2/hook/lk-page`, secret: 'larkpage' });
    const send = async (event: NotifyEvent) => {
      expect(await dingtalk.send(renderDingtalk(event, { language: 'en' }))).toMatchObject({ ok: true });
      expect(await lark.send(renderLark(event, { language: 'en' }))).toMatchObject({ ok: true });
    };
    let opened: Page | undefined;
    try {
      const { page, problems } = await newPage();
      opened = page;
      await send(received);
      await page.goto(`${chat.url}/chat`);
      await markDocument(page);
      await expect.poll(() => page.locator('#status').textContent()).toBe('live updates: on');

      // DingTalk: the request received mentions its requester, so it is markdown with inline links.
      const ops = groupMessages(page, 'ops');
      await expect.poll(() => ops.count()).toBe(1);
      const first = ops.first();
      expect(await first.locator('h6').innerText()).toContain('request received, onboard alice');
      expect(await first.locator('li', { hasText: 'Login' }).innerText()).toMatch(/Login:\s*alice/);
      expect(await first.locator('strong', { hasText: 'Login' }).count()).toBe(1);
      expect(await first.locator('a[href="https://github.com/acme/access/pull/42"]').innerText()).toBe('Pull request');
      expect(await first.innerText()).not.toMatch(/\*\*|####|\\/);

      // A result that arrives after the page loaded: at the bottom of its group, no reload.
      await send(applied);
      await expect.poll(() => ops.count()).toBe(2);
      const last = ops.last();
      expect(await last.locator('h6').innerText()).toContain('applying 3f2a9c1e7b5d failed on 1 of 3 instances');
      // The actionCard's buttons: real links, shown as buttons.
      const status = last.locator('.buttons a.button', { hasText: 'Status' });
      expect(await status.getAttribute('href')).toBe('https://rollcall.example.com/status');
      expect(await status.isVisible()).toBe(true);
      expect(await last.locator('.buttons a.button').count()).toBe(2);
      expect(await last.innerText()).toContain('zhang_san');

      // Lark: the interactive card, header in its template's colour (red: something failed), fields, buttons.
      const hr = groupMessages(page, 'hr');
      await expect.poll(() => hr.count()).toBe(2);
      const card = hr.last();
      const header = card.locator('.card-header');
      expect(await header.getAttribute('class')).toContain('template-red');
      expect(await header.evaluate((element) => element.ownerDocument.defaultView?.getComputedStyle(element).backgroundColor)).toBe('rgb(245, 74, 69)');
      expect(await card.locator('.field.short').count()).toBeGreaterThan(0);
      expect(await card.locator('.field', { hasText: 'Duration' }).innerText()).toMatch(/Duration\s+1 min 23 s/);
      expect(await card.locator('a.button.primary').getAttribute('href')).toBe('https://rollcall.example.com/status');
      expect(await card.locator('a.button.default').getAttribute('href')).toBe('https://rollcall.example.com/history/E1001');
      expect(await hr.first().locator('.card-header').getAttribute('class')).toContain('template-blue');

      expect(await scrolledToBottom(page, 'ops')).toBe(true);
      await expectSameDocument(page);
      expect(problems).toEqual([]);
    } finally {
      await opened?.close();
      await chat.close();
    }
  });
});

describe.skipIf(executablePath === undefined || sandboxSkip !== undefined)('the group page of rollcall dev in headless Chromium', () => {
  it('shows an approval confirmed in its group: the request received, then the result applied; a later one arrives live', async () => {
    const sink = new Writable({ write: (_chunk: Buffer, _encoding, done) => done() });
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let started!: (dev: { url: string; repo: string; chat: string }) => void;
    const running = new Promise<{ url: string; repo: string; chat: string }>((resolve) => (started = resolve));
    // rollcall dev links the groups' messages to its own status page (ROLLCALL_PUBLIC_URL unset).
    const env = { ROLLCALL_LOG_LEVEL: 'warn', ROLLCALL_LANGUAGE: 'en' };
    const done = devCommand(
      { dir: 'desired-state', port: 0, instancesPerTag: 1, stopped, onStarted: started },
      { stdout: sink, stderr: process.stderr, env, cwd: process.cwd(), log: createLogger(env, { write: () => true }) },
    );
    const dingtalkGroup = 'ops-dingtalk (DingTalk)';
    const larkGroup = 'ops-lark (Lark)';
    let opened: Page | undefined;
    try {
      // rollcall dev failing to start ends the test with its error, not with a timeout.
      const dev = await Promise.race([running, done.then((code) => Promise.reject(new Error(`rollcall dev exited with ${code} before it started`)))]);
      const { page, problems } = await newPage();
      opened = page;
      const approve = await runCli(['approve', '--emulator', dev.chat, '--platform', 'dingtalk', '--flow', 'onboard', '--originator', 'hr-lin', '--approver', 'it-zhao', '--field', 'empId=E2001', '--field', 'login=qianjiu', '--field', 'name=Qian Jiu', '--field', 'role=devops']);
      expect(approve.code).toBe(0);
      await page.goto(`${dev.chat}/chat`);
      await markDocument(page);

      // The request received names the login and mentions the requester, rendered (no markdown left).
      const messages = groupMessages(page, dingtalkGroup);
      const receivedMessage = messages.filter({ has: page.locator('h6', { hasText: 'request received, onboard qianjiu' }) });
      await receivedMessage.waitFor({ timeout: 30_000 });
      expect(await receivedMessage.locator('li', { hasText: 'Login' }).innerText()).toMatch(/Login:\s*qianjiu/);
      expect(await receivedMessage.locator('span.at').first().innerText()).toBe('@hr-lin');
      expect(await receivedMessage.innerText()).not.toMatch(/\*\*|####|\\/);

      // Then the result, after it: the account created on every instance.
      const appliedMessage = messages.filter({ has: page.locator('h6', { hasText: /applied [0-9a-f]{12}, 3 instances ok/ }) }).filter({ hasText: 'Onboard E2001 (qianjiu)' });
      await appliedMessage.waitFor({ timeout: 30_000 });
      expect(await appliedMessage.innerText()).toMatch(/Created \(1\):\s*qianjiu/);
      // It mentions the requester, so DingTalk gets markdown: the status page is an inline link there.
      expect(await appliedMessage.locator('a', { hasText: 'Status' }).getAttribute('href')).toBe(`${dev.url}/status`);
      expect(Number(await appliedMessage.getAttribute('data-seq'))).toBeGreaterThan(Number(await receivedMessage.getAttribute('data-seq')));

      // A request made now, in Lark, appears in its own group, at the bottom, without a reload.
      const lark = groupMessages(page, larkGroup);
      const before = await lark.count();
      const grant = await runCli(['approve', '--emulator', dev.chat, '--platform', 'lark', '--flow', 'grant', '--originator', 'ou_7d8a6e6df7621556ce0d21922b676706', '--field', 'role=oncall']);
      expect(grant.code).toBe(0);
      const grantReceived = lark.filter({ has: page.locator('.card-header', { hasText: 'request received, grant role E1011' }) });
      await grantReceived.waitFor({ timeout: 15_000 });
      expect(await lark.nth(before).getAttribute('id')).toBe(await grantReceived.getAttribute('id'));
      expect(await grantReceived.locator('.card-header').getAttribute('class')).toContain('template-blue');
      expect(await grantReceived.locator('.field', { has: page.locator('strong', { hasText: /^Role$/ }) }).innerText()).toMatch(/^Role\s+oncall$/);
      // Its result comes last, green, naming the login.
      const grantApplied = lark.filter({ has: page.locator('.card-header.template-green') }).filter({ hasText: 'Grant E1011 (fengsan)' });
      await grantApplied.waitFor({ timeout: 30_000 });
      expect(await grantApplied.locator('.div', { hasText: 'Updated (1)' }).innerText()).toMatch(/Updated \(1\)\s+fengsan/);
      expect(await lark.last().getAttribute('id')).toBe(await grantApplied.getAttribute('id'));
      // Lark's card has the link button, and it opens rollcall's status page.
      const statusButton = grantApplied.locator('.buttons a.button', { hasText: 'Status' });
      expect(await statusButton.getAttribute('href')).toBe(`${dev.url}/status`);
      const [statusPage] = await Promise.all([page.waitForEvent('popup'), statusButton.click()]);
      await statusPage.waitForLoadState();
      expect(await statusPage.locator('body').innerText()).toContain('lastAppliedRevision');
      await statusPage.close();
      expect(await scrolledToBottom(page, larkGroup)).toBe(true);
      await expectSameDocument(page);
      expect(problems).toEqual([]);
    } finally {
      await opened?.close();
      stop();
      expect(await done).toBe(0);
    }
  }, 60_000);
});
