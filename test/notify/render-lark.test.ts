import { describe, expect, it } from 'vitest';
import type { LarkBotMessage } from '../../src/notify/render-lark.js';
import { escape, LARK_MAX_BYTES, renderLark } from '../../src/notify/render-lark.js';
import { serializedBytes } from '../../src/notify/render-text.js';
import { applied, appliedOk, bigApply, digest, drift, EVENTS, plan, received, refused, reminder, stalled } from './render-fixtures.js';

// Rendered messages are the one place snapshots are allowed (STYLE.md): these pin what a group reads.

/** Every lark_md text of a card, in order. */
function markdownOf(message: LarkBotMessage): string[] {
  return message.card.elements.flatMap((element) => {
    if (element.tag !== 'div') return [];
    if ('text' in element) return [element.text.content];
    return element.fields.map((field) => field.text.content);
  });
}

describe('renderLark snapshots', () => {
  for (const [kind, event] of Object.entries(EVENTS)) {
    for (const language of ['zh', 'en'] as const) {
      it(`${kind} in ${language}`, () => {
        expect(renderLark(event, { language })).toMatchSnapshot();
      });
    }
  }
});

describe('renderLark', () => {
  it('colours the header by outcome', () => {
    const template = (event: Parameters<typeof renderLark>[0]) => renderLark(event, { language: 'en' }).card.header.template;
    expect(template(applied)).toBe('red');
    expect(template(appliedOk)).toBe('green');
    expect(template({ ...appliedOk, instances: [] })).toBe('grey');
    expect(template(drift)).toBe('orange');
    expect(template({ ...drift, corrected: true })).toBe('green');
    expect(template(stalled)).toBe('red');
    expect(template(received)).toBe('blue');
    expect(template(plan)).toBe('blue');
    expect(template({ ...plan, instances: plan.instances.map((instance) => ({ ...instance, changes: [] })) })).toBe('grey');
    expect(template(refused)).toBe('orange');
    expect(template(reminder)).toBe('orange');
    expect(template(digest)).toBe('red');
    expect(template({ ...digest, events: [received, appliedOk] })).toBe('green');
  });

  it('ends with link buttons, the one to look at first primary', () => {
    const message = renderLark(plan, { language: 'zh' });
    expect(message.card.elements.at(-1)).toEqual({
      tag: 'action',
      actions: [
        { tag: 'button', text: { tag: 'plain_text', content: '拉取请求' }, type: 'primary', url: plan.links.pullRequest },
        { tag: 'button', text: { tag: 'plain_text', content: '状态页' }, type: 'default', url: plan.links.status },
        { tag: 'button', text: { tag: 'plain_text', content: '历史记录' }, type: 'default', url: plan.links.history },
      ],
    });
    const failed = renderLark(applied, { language: 'en' }).card.elements.at(-1);
    expect(failed).toMatchObject({ tag: 'action', actions: [{ url: applied.links.status, type: 'primary' }, { url: applied.links.history, type: 'default' }] });
    expect(renderLark(refused, { language: 'en' }).card.elements.some((element) => element.tag === 'action')).toBe(false);
  });

  it('mentions the requester with <at id=…></at>, and nobody through what people wrote', () => {
    const message = renderLark({ ...refused, reason: 'see <at id=all></at> & *this*' }, { language: 'en' });
    const [intro, reason] = markdownOf(message);
    expect(intro).toBe('<at id=manager0421></at> your approval dingtalk/PROC-9b21 was not turned into a change:');
    expect(reason).toBe('see &lt;at id=all&gt;&lt;/at&gt; &amp; &#42;this&#42;');
    expect(escape('zhang_san _x_ [a](b) ~s~')).toBe('zhang_san &#95;x&#95; &#91;a&#93;(b) &#126;s&#126;');
  });

  it('mentions the requester of an approval in its results, and names a DingTalk requester instead', () => {
    const asked = renderLark({ ...applied, revision: { ...applied.revision, requester: { id: 'ou_7d8a', name: 'Wang Fang', platform: 'lark' } } }, { language: 'en' });
    expect(JSON.stringify(asked)).toContain('<at id=ou_7d8a></at>');
    const fromDingtalk = renderLark({ ...applied, revision: { ...applied.revision, requester: { id: 'manager0421', name: 'Li Lei', platform: 'dingtalk' } } }, { language: 'en' });
    expect(JSON.stringify(fromDingtalk)).not.toContain('<at');
    expect(JSON.stringify(fromDingtalk)).toContain('Li Lei');
  });

  it('shows counts side by side as short fields', () => {
    const fields = renderLark(applied, { language: 'en' }).card.elements.find((element) => element.tag === 'div' && 'fields' in element);
    expect(fields).toMatchObject({ fields: expect.arrayContaining([{ is_short: true, text: { tag: 'lark_md', content: '**Instances ok**\n2 / 3' } }]) });
  });

  it('fits 5,000 logins and 2,000 instances in the limit, failures first, and says how many were left out', () => {
    const message = renderLark(bigApply(5_000, 2_000), { language: 'zh' });
    expect(serializedBytes(message)).toBeLessThanOrEqual(LARK_MAX_BYTES);
    expect(serializedBytes(message)).toBeGreaterThan(LARK_MAX_BYTES * 0.9);
    const texts = markdownOf(message);
    const failedAt = texts.findIndex((content) => content.startsWith('**失败的实例（200）**'));
    const okAt = texts.findIndex((content) => content.startsWith('**成功的实例（1,800）**'));
    expect(failedAt).toBeGreaterThan(0);
    expect(okAt).toBeGreaterThan(failedAt);
    expect(texts[failedAt]).toMatch(/^\*\*失败的实例（200）\*\*\n• \*\*i-000003\*\* — create user user00003：Cloud Assistant: InvocationTimeout after 60 s\n/);
    const created = /^\*\*已创建（5,000）\*\*\n(.*) … 另有 ([\d,]+) 项$/.exec(texts.find((content) => content.startsWith('**已创建（')) ?? '');
    expect(created).not.toBeNull();
    expect(created![1]!.split('、').length + Number(created![2]!.replace(/,/g, ''))).toBe(5_000);
    for (const content of texts) expect((content.match(/\*\*/g) ?? []).length % 2).toBe(0);
  });

  it('honours a smaller maxBytes', () => {
    const message = renderLark(bigApply(5_000, 2_000), { language: 'en', maxBytes: 8_000 });
    expect(serializedBytes(message)).toBeLessThanOrEqual(8_000);
    expect(markdownOf(message).join('\n')).toMatch(/\*\*Created \(5,000\)\*\*\nuser00000, .* … and [\d,]+ more/);
  });
});

describe('renderLark buttons', () => {
  it('puts the status page first when an apply failed, even with a pull request', () => {
    const message = renderLark({ ...applied, links: { pullRequest: 'https://github.com/acme/access/pull/42', status: 'https://s', history: 'https://h' } }, { language: 'en' });
    expect(message.card.elements.at(-1)).toMatchObject({ actions: [{ url: 'https://s', type: 'primary' }, { url: 'https://github.com/acme/access/pull/42', type: 'default' }, { url: 'https://h', type: 'default' }] });
  });
});
