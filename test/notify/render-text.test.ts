import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import type { DigestEvent } from '../../src/notify/events.js';
import {
  clip,
  describeEvent,
  formatNumber,
  linkTarget,
  ListBudget,
  renderToFit,
  serializedBytes,
  WORDS,
  type Block,
  type Line,
  type MessageModel,
} from '../../src/notify/render-text.js';
import { applied, bigApply, digest, EVENTS, received, refused, reminder, stalled } from './render-fixtures.js';

function lists(model: MessageModel): Extract<Block, { kind: 'list' }>[] {
  return model.blocks.filter((block): block is Extract<Block, { kind: 'list' }> => block.kind === 'list');
}

function plain(line: Line): string {
  return line.map((part) => (typeof part === 'string' ? part : 'bold' in part ? part.bold : 'link' in part ? part.text : `@${part.mention.id}`)).join('');
}

describe('ListBudget', () => {
  it('shows the first items up to the limit, counts the rest, and remembers the longest list asked for', () => {
    const budget = new ListBudget(2);
    expect(budget.take(['a', 'b', 'c', 'd'])).toEqual({ shown: ['a', 'b'], omitted: 2 });
    expect(budget.take(['x'])).toEqual({ shown: ['x'], omitted: 0 });
    expect(budget.longest).toBe(4);
  });
});

describe('text helpers', () => {
  it('clips by code point, never inside a surrogate pair', () => {
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('😀😀😀😀', 3)).toBe('😀😀…');
  });

  it('formats numbers with thousands separators whatever the locale', () => {
    expect([0, 999, 1000, 1234567].map(formatNumber)).toEqual(['0', '999', '1,000', '1,234,567']);
  });

  it('percent-encodes what would end a markdown link early', () => {
    expect(linkTarget('https://x.example/a b(c)')).toBe('https://x.example/a%20b%28c%29');
  });
});

describe('describeEvent', () => {
  it('lists failed instances, with the failing operation and its error, before the logins and the instances that went well', () => {
    const model = describeEvent(applied, WORDS.en, new ListBudget(Number.POSITIVE_INFINITY));
    const headings = lists(model).map((block) => block.heading);
    expect(headings).toEqual(['Failed instances (1)', 'Created (1)', 'Updated (2)', 'Locked (1)', 'Instances ok (2)']);
    expect(plain(lists(model)[0]!.items[0]!)).toBe('i-db1 — create user alice: useradd: UID 20001 is not unique');
    expect(model.tone).toBe('failure');
    expect(model.links.find((link) => link.primary)?.label).toBe('Status');
  });

  it('mentions the requester of a request, and nobody in an apply', () => {
    const mentions = (model: MessageModel) =>
      model.blocks.flatMap((block) => (block.kind === 'paragraph' ? block.lines.flat() : [])).filter((part) => typeof part === 'object' && 'mention' in part);
    expect(mentions(describeEvent(received, WORDS.zh, new ListBudget(5)))).toEqual([{ mention: received.approval.requester }]);
    expect(mentions(describeEvent(refused, WORDS.en, new ListBudget(5)))).toEqual([{ mention: refused.approval.requester }]);
    expect(mentions(describeEvent(reminder, WORDS.en, new ListBudget(5)))).toEqual([{ mention: reminder.mention }]);
    expect(mentions(describeEvent(applied, WORDS.en, new ListBudget(5)))).toEqual([]);
  });

  it('puts a digest’s events to act on first, lists every request in it, and every login it covers', () => {
    const model = describeEvent(digest, WORDS.en, new ListBudget(Number.POSITIVE_INFINITY));
    const [events, logins] = lists(model);
    expect(events!.items.map(plain)).toEqual([
      expect.stringMatching(/^stalled: invalid revision/),
      expect.stringMatching(/^request dingtalk\/PROC-9b21 not carried out @manager0421/),
      expect.stringMatching(/^access of carol ends soon @carol01/),
      expect.stringMatching(/^applied 3f2a9c1e7b5d/),
      expect.stringMatching(/^request received, onboard alice @manager0421 Pull request$/),
    ]);
    expect(logins!.items.map(plain)).toEqual(['alice', 'bob_old', 'carol', 'zhang_san']);
    expect(model.tone).toBe('failure');
    expect(model.blocks[0]).toMatchObject({ kind: 'fields', fields: [{}, { value: ['1 request received, 1 refused, 1 applied, 1 stalled, 1 reminder'] }] });
  });

  it('has the same shape in both languages, only the words differ', () => {
    for (const event of Object.values(EVENTS)) {
      const shape = (model: MessageModel) => ({ tone: model.tone, blocks: model.blocks.map((block) => block.kind), links: model.links.map((link) => link.url) });
      const en = describeEvent(event, WORDS.en, new ListBudget(10));
      const zh = describeEvent(event, WORDS.zh, new ListBudget(10));
      expect(shape(zh)).toEqual(shape(en));
      expect(zh.title).not.toBe(en.title);
    }
  });
});

describe('renderToFit', () => {
  // The model itself as the body: what renderToFit does is independent of the platform's markup.
  const asIs = (model: MessageModel) => model;

  it('keeps every item when the whole message fits', () => {
    const model = renderToFit(applied, 'en', 20_000, asIs);
    expect(lists(model).every((block) => block.omitted === 0 && block.more === undefined)).toBe(true);
  });

  it('shows the largest number of items that fits: one more would not', () => {
    const event = bigApply(5_000, 2_000);
    const model = renderToFit(event, 'en', 20_000, asIs);
    expect(serializedBytes(model)).toBeLessThanOrEqual(20_000);
    const shown = Math.max(...lists(model).map((block) => block.items.length));
    expect(shown).toBeGreaterThan(0);
    expect(serializedBytes(describeEvent(event, WORDS.en, new ListBudget(shown + 1)))).toBeGreaterThan(20_000);
    const created = lists(model).find((block) => block.heading.startsWith('Created'))!;
    expect(created.items.length + created.omitted).toBe(5_000);
    expect(created.more).toBe(`… and ${formatNumber(created.omitted)} more`);
  });

  it('falls back to counts and the status page when not even one item fits, and refuses a limit nothing fits in', () => {
    const event = { ...stalled, message: 'x'.repeat(50), problems: ['p'.repeat(250)] };
    const tight = serializedBytes(describeEvent(event, WORDS.en, new ListBudget(0))) - 1;
    const model = renderToFit(event, 'en', tight, asIs);
    expect(model.blocks).toEqual([{ kind: 'paragraph', lines: [['Too large for one message (1 item); see the status page.']] }]);
    expect(model.links.map((link) => link.url)).toEqual([stalled.links.status]);
    expect(() => renderToFit(event, 'en', 100, asIs)).toThrow(RollcallError);
    expect(() => renderToFit(event, 'en', 100, asIs)).toThrow(/maxBytes 100 is too small/);
  });

  it('counts every event of a large digest, listing what fits', () => {
    const many: DigestEvent = { ...digest, events: Array.from({ length: 3_000 }, (_, i) => ({ ...reminder, login: `u${i}`, mention: { id: `m${i}` } })) };
    const model = renderToFit(many, 'zh', 20_000, asIs);
    expect(model.title).toBe('rollcall：3,000 条事件汇总');
    const [events, logins] = lists(model);
    expect(events!.items.length + events!.omitted).toBe(3_000);
    expect(logins!.items.length + logins!.omitted).toBe(3_000);
    expect(events!.more).toBe(`… 另有 ${formatNumber(events!.omitted)} 项`);
  });
});
