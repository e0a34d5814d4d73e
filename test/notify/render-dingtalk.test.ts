import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import type { NotifyEvent } from '../../src/notify/events.js';
import { DINGTALK_MAX_BYTES, escape, renderDingtalk, type DingtalkRobotMessage } from '../../src/notify/render-dingtalk.js';
import { serializedBytes } from '../../src/notify/render-text.js';
import { applied, bigApply, digest, EVENTS, plan, received, refused, reminder, stalled } from './render-fixtures.js';

// Rendered messages are the one place snapshots are allowed (STYLE.md): these pin what a group reads.

function text(message: DingtalkRobotMessage): string {
  return message.msgtype === 'markdown' ? message.markdown.text : message.actionCard.text;
}

describe('renderDingtalk snapshots', () => {
  for (const [kind, event] of Object.entries(EVENTS)) {
    for (const language of ['zh', 'en'] as const) {
      it(`${kind} in ${language}`, () => {
        expect(renderDingtalk(event, { language })).toMatchSnapshot();
      });
    }
  }
});

describe('renderDingtalk', () => {
  it('sends link buttons as an actionCard when nobody is mentioned', () => {
    const message = renderDingtalk(applied, { language: 'en' });
    expect(message).toMatchObject({
      msgtype: 'actionCard',
      actionCard: {
        title: 'rollcall: applying 3f2a9c1e7b5d failed on 1 of 3 instances',
        btnOrientation: '1',
        btns: [
          { title: 'Status', actionURL: applied.links.status },
          { title: 'History', actionURL: applied.links.history },
        ],
      },
    });
    expect(text(message)).toContain('- **i-db1** — create user alice: useradd: UID 20001 is not unique');
  });

  it('mentions the requester with at.atUserIds and @userId in a markdown text, its links written inline (actionCard cannot mention)', () => {
    const message = renderDingtalk(received, { language: 'zh' });
    expect(message.msgtype).toBe('markdown');
    if (message.msgtype !== 'markdown') return;
    expect(message.at).toEqual({ atUserIds: ['manager0421'], isAtAll: false });
    expect(message.markdown.text).toContain('@manager0421 你的审批 dingtalk/PROC-7f3a');
    expect(message.markdown.text).toContain(`[拉取请求](${received.links.pullRequest})`);
  });

  it('mentions the requester of an approval in its plan and results, and names a Lark requester instead of mentioning an id DingTalk does not know', () => {
    const asked = { ...applied, revision: { ...applied.revision, requester: { id: 'manager0421', name: 'Li Lei', platform: 'dingtalk' as const } } };
    const message = renderDingtalk(asked, { language: 'en' });
    if (message.msgtype !== 'markdown') throw new Error(`expected markdown, got ${message.msgtype}`);
    expect(message.at).toEqual({ atUserIds: ['manager0421'], isAtAll: false });
    expect(message.markdown.text).toContain('@manager0421 **3f2a9c1e7b5d**');
    const fromLark = renderDingtalk({ ...plan, revision: { ...plan.revision, requester: { id: 'ou_1', name: 'Wang Fang', platform: 'lark' } } }, { language: 'en' });
    expect(JSON.stringify(fromLark)).not.toContain('ou_1');
    expect(JSON.stringify(fromLark)).toContain('Wang Fang');
    expect('at' in fromLark).toBe(false);
  });

  it('mentions every requester a digest lists, each once, and only those', () => {
    const message = renderDingtalk(digest, { language: 'en' });
    if (message.msgtype !== 'markdown') throw new Error(`expected markdown, got ${message.msgtype}`);
    expect(message.at?.atUserIds).toEqual(['manager0421', 'carol01']);
    for (const id of message.at?.atUserIds ?? []) expect(message.markdown.text).toContain(`@${id}`);
  });

  it('sends plain markdown without at when there is neither a link nor a mention', () => {
    const message = renderDingtalk({ ...reminder, mention: undefined }, { language: 'en' });
    expect(message).toEqual({ msgtype: 'markdown', markdown: { title: 'rollcall: access of carol ends soon', text: expect.any(String) } });
  });

  it('escapes what people wrote, so that it reads as written and links nowhere', () => {
    const message = renderDingtalk({ ...refused, reason: '# *urgent* [click](https://evil.example) <b>zhang_san</b> _x_' }, { language: 'en' });
    expect(text(message)).toContain('\\# \\*urgent\\* \\[click\\](https://evil.example) \\<b\\>zhang_san\\</b\\> \\_x\\_');
    expect(escape('1. first', true)).toBe('\\1. first');
    expect(escape('line\nbreak')).toBe('line break');
  });

  it('fits 5,000 logins and 2,000 instances in the limit, failures first, and says how many were left out', () => {
    const event = bigApply(5_000, 2_000);
    const message = renderDingtalk(event, { language: 'en' });
    expect(serializedBytes(message)).toBeLessThanOrEqual(DINGTALK_MAX_BYTES);
    // Close to the limit: it did not shrink more than it had to.
    expect(serializedBytes(message)).toBeGreaterThan(DINGTALK_MAX_BYTES * 0.9);
    const body = text(message);
    const created = /\*\*Created \(5,000\):\*\* (.*) … and ([\d,]+) more/.exec(body);
    expect(created).not.toBeNull();
    expect(created![1]!.split(', ').length + Number(created![2]!.replace(/,/g, ''))).toBe(5_000);
    const failedAt = body.indexOf('**Failed instances (200)**');
    expect(failedAt).toBeGreaterThan(0);
    expect(failedAt).toBeLessThan(body.indexOf('**Instances ok (1,800):**'));
    expect(body).toMatch(/- … and [\d,]+ more\n/);
    expect(body).toMatch(/\*\*Instances ok \(1,800\):\*\* i-000000, .* … and [\d,]+ more$/);
    // Nothing cut in the middle: bold markers pair up on every line.
    for (const line of body.split('\n')) expect((line.match(/(?<!\\)\*\*/g) ?? []).length % 2).toBe(0);
  });

  it('honours a smaller maxBytes, with a zh message too', () => {
    const event = bigApply(5_000, 2_000);
    const small = renderDingtalk(event, { language: 'zh', maxBytes: 6_000 });
    expect(serializedBytes(small)).toBeLessThanOrEqual(6_000);
    expect(text(small)).toMatch(/\*\*已创建（5,000）：\*\*user00000、.*… 另有 [\d,]+ 项/);
    expect(() => renderDingtalk(event, { language: 'en', maxBytes: 200 })).toThrow(RollcallError);
  });

  it('clips an enormous error or reason instead of dropping the message', () => {
    const events: NotifyEvent[] = [
      { ...stalled, message: 'stack '.repeat(20_000) },
      { ...applied, instances: [{ id: 'i-db1', ok: false, failedOperation: 'create user alice', error: 'e'.repeat(100_000) }] },
    ];
    for (const event of events) {
      const message = renderDingtalk(event, { language: 'en' });
      expect(serializedBytes(message)).toBeLessThan(5_000);
      expect(text(message)).toContain('…');
    }
  });

  it('is deterministic: the same event renders to the same bytes', () => {
    const event = bigApply(300, 300);
    expect(JSON.stringify(renderDingtalk(event, { language: 'zh' }))).toBe(JSON.stringify(renderDingtalk(structuredClone(event), { language: 'zh' })));
  });
});
