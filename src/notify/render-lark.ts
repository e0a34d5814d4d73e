import type { NotifyEvent } from './events.js';
import { linkTarget, renderToFit, type Block, type Language, type Line, type MessageModel, type Punctuation, type RenderOptions, type Tone } from './render-text.js';

/**
 * A NotifyEvent as the body of a Lark (Feishu) custom bot message: an interactive card. Pure: no
 * I/O, no clock; the sender adds `timestamp` and `sign`.
 */

/** Header colours rollcall uses. */
export type LarkHeaderTemplate = 'green' | 'red' | 'orange' | 'blue' | 'grey';

export interface LarkText {
  tag: 'plain_text' | 'lark_md';
  content: string;
}

export interface LarkField {
  /** Two short fields share a row. */
  is_short: boolean;
  text: LarkText;
}

/** A link button; custom bots cannot have buttons that call back. */
export interface LarkButton {
  tag: 'button';
  text: LarkText & { tag: 'plain_text' };
  type: 'default' | 'primary';
  url: string;
}

export type LarkElement =
  | { tag: 'div'; text: LarkText }
  | { tag: 'div'; fields: LarkField[] }
  | { tag: 'hr' }
  | { tag: 'action'; actions: LarkButton[] };

export interface LarkCard {
  config: { wide_screen_mode: boolean };
  header: { title: LarkText & { tag: 'plain_text' }; template: LarkHeaderTemplate };
  elements: LarkElement[];
}

/** The JSON body of a Lark bot message rollcall sends (before `timestamp` and `sign`). */
export interface LarkBotMessage {
  msg_type: 'interactive';
  card: LarkCard;
}

/** {@link RenderOptions}; `maxBytes` defaults to {@link LARK_MAX_BYTES}. */
export type RenderLarkOptions = RenderOptions;

/** Lark takes 20 KB a request, `timestamp` and `sign` included: a sender that signs renders to less (chat-notifier.ts). */
export const LARK_MAX_BYTES = 20_000;

const TEMPLATE: Record<Tone, LarkHeaderTemplate> = { success: 'green', failure: 'red', warning: 'orange', info: 'blue', neutral: 'grey' };

/**
 * The bot message for an event: a card whose header is coloured by the outcome, with fields, lists
 * and a row of link buttons; people mentioned as `<at id=…></at>`. Long lists are shortened to fit
 * `maxBytes` with counts of what was left out (see `render-text.ts`).
 */
export function renderLark(event: NotifyEvent, options: RenderLarkOptions): LarkBotMessage {
  return renderToFit(event, options.language, options.maxBytes ?? LARK_MAX_BYTES, toLark);
}

function toLark(model: MessageModel): LarkBotMessage {
  const elements = model.blocks.map((block) => renderBlock(block, model.punctuation));
  if (model.links.length > 0) {
    elements.push({
      tag: 'action',
      actions: model.links.map((link) => ({ tag: 'button', text: { tag: 'plain_text', content: link.label }, type: link.primary ? 'primary' : 'default', url: link.url })),
    });
  }
  return {
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: { title: { tag: 'plain_text', content: model.title }, template: TEMPLATE[model.tone] },
      elements,
    },
  };
}

function renderBlock(block: Block, punctuation: Punctuation): LarkElement {
  switch (block.kind) {
    case 'paragraph':
      return markdown(block.lines.map(renderLine).join('\n'));
    case 'fields':
      return { tag: 'div', fields: block.fields.map((field) => ({ is_short: true, text: { tag: 'lark_md', content: `**${escape(field.label)}**\n${renderLine(field.value)}` } })) };
    case 'list': {
      const more = block.more ? escape(block.more) : undefined;
      if (block.inline) return markdown(`**${escape(block.heading)}**\n${[block.items.map(renderLine).join(punctuation.list), more].filter((part) => part).join(' ')}`);
      // lark_md has no list syntax in a div: a bullet character reads the same.
      return markdown([`**${escape(block.heading)}**`, ...block.items.map((item) => `• ${renderLine(item)}`), ...(more ? [more] : [])].join('\n'));
    }
    case 'divider':
      return { tag: 'hr' };
  }
}

function markdown(content: string): LarkElement {
  return { tag: 'div', text: { tag: 'lark_md', content } };
}

function renderLine(line: Line): string {
  return line
    .map((part) => {
      if (typeof part === 'string') return escape(part);
      if ('bold' in part) return `**${escape(part.bold)}**`;
      if ('link' in part) return `[${escape(part.text)}](${linkTarget(part.link)})`;
      // A DingTalk user's id means nothing to Lark: name them instead.
      if (part.mention.platform !== undefined && part.mention.platform !== 'lark') return escape(part.mention.name ?? part.mention.id);
      return `<at id=${part.mention.id.replace(/[^\w-]/g, '')}></at>`;
    })
    .join('');
}

/**
 * Text that reads as itself in lark_md, which decodes HTML entities: `<` and `>` (so that nobody's
 * text becomes an `<at>` mention or a tag), `&`, and the characters of emphasis, strike-through and
 * links. `_` between two letters or digits (`zhang_san`) cannot start emphasis and stays as it is.
 */
export function escape(text: string): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ');
  return flat.replace(/[&<>*~[\]`]|_/g, (c, offset: number) => {
    if (c === '_' && /[\p{L}\p{N}]/u.test(flat[offset - 1] ?? '') && /[\p{L}\p{N}]/u.test(flat[offset + 1] ?? '')) return c;
    return ENTITY[c] ?? `&#${c.charCodeAt(0)};`;
  });
}

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
