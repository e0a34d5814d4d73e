import type { ChatPerson, NotifyEvent } from './events.js';
import { linkTarget, renderToFit, type Block, type Language, type Line, type MessageModel, type Punctuation, type RenderOptions, type Tone } from './render-text.js';

/**
 * A NotifyEvent as the body of a DingTalk custom robot's `POST /robot/send`. Pure: no I/O, no
 * clock; the signed URL and the sending are the outbox's business.
 */

/** Who a DingTalk message mentions. The text must also contain `@<userId>` for each, or nothing shows. */
export interface DingtalkAt {
  atUserIds: string[];
  isAtAll: boolean;
}

/** `msgtype: markdown`: the one type (with text) that can mention people. */
export interface DingtalkMarkdownMessage {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at?: DingtalkAt;
}

/** A link button of an actionCard: custom robots only link, they cannot call back. */
export interface DingtalkActionCardButton {
  title: string;
  actionURL: string;
}

/** `msgtype: actionCard`: markdown text with link buttons under it; cannot mention anyone. */
export interface DingtalkActionCardMessage {
  msgtype: 'actionCard';
  actionCard: {
    title: string;
    text: string;
    /** `'0'` buttons stacked, `'1'` side by side. */
    btnOrientation: '0' | '1';
    btns: DingtalkActionCardButton[];
  };
}

/** The JSON body of a DingTalk robot message rollcall sends. */
export type DingtalkRobotMessage = DingtalkMarkdownMessage | DingtalkActionCardMessage;

/** {@link RenderOptions}; `maxBytes` defaults to {@link DINGTALK_MAX_BYTES}. */
export type RenderDingtalkOptions = RenderOptions;

/** DingTalk documents no exact byte limit for robot markdown; longer messages are refused or cut, so rollcall stays under this. */
export const DINGTALK_MAX_BYTES = 20_000;

const MARK: Record<Tone, string> = { success: '✅ ', failure: '❌ ', warning: '⚠️ ', info: 'ℹ️ ', neutral: '' };

/**
 * The robot message for an event: an actionCard with link buttons when the event has links and
 * mentions nobody, otherwise markdown (links inline), with `at.atUserIds` and `@userId` in the text
 * for each person mentioned — DingTalk takes `at` on text and markdown messages only. Long lists are
 * shortened to fit `maxBytes` with counts of what was left out (see `render-text.ts`).
 */
export function renderDingtalk(event: NotifyEvent, options: RenderDingtalkOptions): DingtalkRobotMessage {
  return renderToFit(event, options.language, options.maxBytes ?? DINGTALK_MAX_BYTES, toDingtalk);
}

function toDingtalk(model: MessageModel): DingtalkRobotMessage {
  const mentions = new Map<string, ChatPerson>();
  const span = spanRenderer(mentions);
  const parts = [`#### ${MARK[model.tone]}${escape(model.title, true)}`, ...model.blocks.map((block) => renderBlock(block, span, model.punctuation)).filter((part) => part !== '')];

  if (model.links.length > 0 && mentions.size === 0) {
    return {
      msgtype: 'actionCard',
      actionCard: {
        title: model.title,
        text: parts.join('\n\n'),
        btnOrientation: model.links.length <= 2 ? '1' : '0',
        btns: model.links.map((link) => ({ title: link.label, actionURL: link.url })),
      },
    };
  }
  if (model.links.length > 0) parts.push(model.links.map((link) => markdownLink(link.label, link.url)).join(' · '));
  const message: DingtalkMarkdownMessage = { msgtype: 'markdown', markdown: { title: model.title, text: parts.join('\n\n') } };
  if (mentions.size > 0) message.at = { atUserIds: [...mentions.keys()], isAtAll: false };
  return message;
}

// DingTalk's markdown breaks lines reliably only between paragraphs and list items, so every line
// that must stand alone is one of those.
function renderBlock(block: Block, span: (line: Line) => string, punctuation: Punctuation): string {
  // `**Label:** value` in English, `**标签：**值` in Chinese.
  const label = (text: string) => `**${escape(text)}${punctuation.colon.trimEnd()}**${punctuation.colon.endsWith(' ') ? ' ' : ''}`;
  switch (block.kind) {
    case 'paragraph':
      return block.lines.map(span).join('\n\n');
    case 'fields':
      return block.fields.map((field) => `- ${label(field.label)}${span(field.value)}`).join('\n');
    case 'list': {
      const more = block.more ? escape(block.more) : undefined;
      if (block.inline) return `${label(block.heading)}${[block.items.map(span).join(punctuation.list), more].filter((part) => part).join(' ')}`;
      const items = block.items.map((item) => `- ${span(item)}`);
      return [`**${escape(block.heading)}**`, [...items, ...(more ? [`- ${more}`] : [])].join('\n')].join('\n\n');
    }
    case 'divider':
      return '---';
  }
}

function spanRenderer(mentions: Map<string, ChatPerson>): (line: Line) => string {
  return (line) =>
    line
      .map((part, index) => {
        if (typeof part === 'string') return escape(part, index === 0);
        if ('bold' in part) return `**${escape(part.bold)}**`;
        if ('link' in part) return markdownLink(part.text, part.link);
        // A Lark user's id means nothing to DingTalk: name them instead.
        if (part.mention.platform !== undefined && part.mention.platform !== 'dingtalk') return escape(part.mention.name ?? part.mention.id, index === 0);
        mentions.set(part.mention.id, part.mention);
        return `@${part.mention.id}`;
      })
      .join('');
}

function markdownLink(text: string, url: string): string {
  return `[${escape(text)}](${linkTarget(url)})`;
}

/**
 * Text that reads as itself in markdown: CommonMark backslash escapes for the characters that
 * would make emphasis, links, code or html, and for `#`, `>`, `-`, `+`, `1.` at the start of a
 * line. `_` between two letters or digits (`zhang_san`) cannot start emphasis and stays as it is.
 */
export function escape(text: string, lineStart = false): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ');
  let escaped = flat.replace(/[\\`*[\]<>~]|_/g, (c, offset: number) => {
    if (c !== '_') return `\\${c}`;
    return /[\p{L}\p{N}]/u.test(flat[offset - 1] ?? '') && /[\p{L}\p{N}]/u.test(flat[offset + 1] ?? '') ? c : '\\_';
  });
  if (lineStart) escaped = escaped.replace(/^([#>+-]|\d+(?=\.))/, '\\$1');
  return escaped;
}
