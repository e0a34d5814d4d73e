import type { AcceptedMessage } from './robot-webhooks.js';

/**
 * A robot message as the group page shows it: an HTML fragment. Every text in a message is
 * untrusted (anyone holding a robot token writes it), so each is escaped before any markup is
 * added, and links keep only http(s) targets. Small on purpose: the markdown subset DingTalk and
 * Lark render (headings, bold, italic, strike, code, links, lists, quotes, rules, line breaks,
 * mentions), not CommonMark; each platform's own way of writing a character literally (DingTalk's
 * backslash escapes, lark_md's HTML entities) shows that character.
 */

/** `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function unescapeHtml(text: string): string {
  return text.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
}

/**
 * The target a link may have on the page, or `undefined`: http(s) only (no script, data or app
 * scheme). DingTalk's `dingtalk://dingtalkclient/page/link?url=…` (open in the browser) is
 * unwrapped to its `url`.
 */
export function safeHref(url: string): string | undefined {
  let target = url.trim();
  if (/^dingtalk:\/\/dingtalkclient\/page\/link\?/i.test(target)) {
    target = new URLSearchParams(target.slice(target.indexOf('?') + 1)).get('url') ?? '';
  }
  return /^https?:\/\/[^\s]/i.test(target) ? target : undefined;
}

/** A link, or the text alone when the target is not one the page opens. */
function link(textHtml: string, url: unknown, className = ''): string {
  const href = typeof url === 'string' ? safeHref(url) : undefined;
  const classAttr = className === '' ? '' : ` class="${className}"`;
  if (href === undefined) return `<span${classAttr}>${textHtml}</span>`;
  return `<a${classAttr} href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${textHtml}</a>`;
}

const COLOR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$/;

/** Whose markdown: DingTalk's (CommonMark-like, backslash escapes) or Lark's lark_md (HTML entities). */
export type MarkdownDialect = 'dingtalk' | 'lark';

// A character its author wrote literally (`\*` in DingTalk markdown, `&#42;` in lark_md) is held
// as a placeholder of private-use characters while the markup is found, so it can start nothing,
// and comes back as escaped text at the end. Input never carries these characters (stripped first).
const LITERAL_OPEN = '\uE000';
const ESCAPED_OPEN = '\uE002';
const LITERAL_CLOSE = '\uE001';
const PLACEHOLDER = /([\uE000\uE002])(\d+)\uE001/g;
const NAMED_ENTITIES: Record<string, number> = { amp: 38, lt: 60, gt: 62, quot: 34, apos: 39, nbsp: 160 };

/** The dialect's literal characters as placeholders (before any HTML escaping). */
function holdLiterals(text: string, dialect: MarkdownDialect): string {
  const clean = text.replace(/[\uE000-\uE002]/g, '\uFFFD');
  if (dialect === 'dingtalk') {
    // CommonMark: a backslash before ASCII punctuation makes it literal.
    return clean.replace(/\\([!-/:-@[-`{-~])/g, (_all, char: string) => `${ESCAPED_OPEN}${char.charCodeAt(0)}${LITERAL_CLOSE}`);
  }
  // lark_md decodes HTML entities: `&lt;` is a literal `<`, never the start of a tag or a mention.
  return clean.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));/g, (all, decimal?: string, hex?: string, name?: string) => {
    const code = decimal !== undefined ? Number(decimal) : hex !== undefined ? Number.parseInt(hex, 16) : NAMED_ENTITIES[name!.toLowerCase()];
    return code === undefined || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? all : `${LITERAL_OPEN}${code}${LITERAL_CLOSE}`;
  });
}

/** Placeholders back as text: escaped for HTML, raw for a URL, or as written inside a code span. */
function releaseLiterals(text: string, as: 'html' | 'url' | 'code'): string {
  return text.replace(PLACEHOLDER, (_all, open: string, code: string) => {
    const char = String.fromCodePoint(Number(code));
    if (as === 'url') return char;
    // In a code span a backslash is literal (CommonMark): the escape shows as written.
    return escapeHtml(as === 'code' && open === ESCAPED_OPEN ? `\\${char}` : char);
  });
}

/** Inline markdown over text that is escaped already (so every pattern matches entities, not tags). */
function inline(escaped: string): string {
  // Code spans first, and nothing inside them is formatted.
  return escaped
    .split(/(`[^`]+`)/)
    .map((part, index) => (index % 2 === 1 ? `<code>${releaseLiterals(part.slice(1, -1), 'code')}</code>` : releaseLiterals(formatted(part), 'html')))
    .join('');
}

const linkUrl = (url: string) => unescapeHtml(releaseLiterals(url, 'url'));

function formatted(escaped: string): string {
  return escaped
    .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_all, alt: string, url: string) => link(`[image${alt === '' ? '' : `: ${alt}`}]`, linkUrl(url), 'image'))
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_all, label: string, url: string) => link(label, linkUrl(url)))
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\s][^*]*?)\*(?!\*)/g, '$1<em>$2</em>')
    .replace(/~~(.+?)~~/g, '<del>$1</del>')
    .replace(/&lt;at (?:id|user_id|open_id)=(?:&quot;|&#39;)?([^&\s]+?)(?:&quot;|&#39;)?&gt;(.*?)&lt;\/at&gt;/g, (_all, id: string, name: string) => `<span class="at">@${name === '' ? id : name}</span>`)
    .replace(/&lt;font color=(?:&quot;|&#39;)?([^&\s]+?)(?:&quot;|&#39;)?&gt;(.*?)&lt;\/font&gt;/g, (all, color: string, content: string) =>
      COLOR.test(color) ? `<span style="color: ${color}">${content}</span>` : all,
    );
}

/**
 * DingTalk / Lark markdown to HTML: see the module comment for the subset. `dialect` says how the
 * author wrote a character literally: DingTalk (the default) by a backslash, lark_md by an entity.
 */
export function renderMarkdown(markdown: string, dialect: MarkdownDialect = 'dingtalk'): string {
  const out: string[] = [];
  let paragraph: string[] = [];
  let list: { tag: 'ul' | 'ol'; items: string[] } | undefined;
  let quote: string[] = [];
  const flush = (keep?: 'list' | 'quote') => {
    if (paragraph.length > 0) out.push(`<p>${paragraph.join('<br>')}</p>`);
    paragraph = [];
    if (keep !== 'list' && list !== undefined) {
      out.push(`<${list.tag}>${list.items.map((item) => `<li>${item}</li>`).join('')}</${list.tag}>`);
      list = undefined;
    }
    if (keep !== 'quote' && quote.length > 0) {
      out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
      quote = [];
    }
  };
  for (const raw of markdown.split(/\r?\n/)) {
    const line = escapeHtml(holdLiterals(raw.trimEnd(), dialect));
    const heading = /^\s{0,3}(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    const quoted = /^\s*&gt;\s?(.*)$/.exec(line);
    if (line.trim() === '') flush();
    else if (/^\s*(-{3,}|\*{3,}|_{3,})\s*$/.test(line)) {
      flush();
      out.push('<hr>');
    } else if (heading !== null) {
      flush();
      // `#` is h3: the page's own h1 and h2 stay above any message's headings.
      const level = Math.min(heading[1]!.length + 2, 6);
      out.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
    } else if (bullet !== null || numbered !== null) {
      const tag = bullet !== null ? 'ul' : 'ol';
      if (list?.tag !== tag) flush();
      else flush('list');
      list ??= { tag, items: [] };
      list.items.push(inline((bullet ?? numbered)![1]!));
    } else if (quoted !== null) {
      flush('quote');
      quote.push(inline(quoted[1]!));
    } else {
      if (list !== undefined || quote.length > 0) flush();
      paragraph.push(inline(line));
    }
  }
  flush();
  return out.join('');
}

/** Plain text with its line breaks, and Lark's `<at>` mentions as @name. */
function plain(text: string): string {
  return escapeHtml(text)
    .replace(/&lt;at (?:id|user_id|open_id)=(?:&quot;|&#39;)?([^&\s]+?)(?:&quot;|&#39;)?&gt;(.*?)&lt;\/at&gt;/g, (_all, id: string, name: string) => `<span class="at">@${name === '' ? id : name}</span>`)
    .replace(/\r?\n/g, '<br>');
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

function buttons(items: Array<{ title: string; url: unknown; kind?: string }>, vertical: boolean): string {
  const rendered = items.map((item) => link(escapeHtml(item.title), item.url, `button ${BUTTON_KINDS.has(item.kind ?? '') ? item.kind : 'default'}`));
  return `<div class="buttons${vertical ? ' vertical' : ''}">${rendered.join('')}</div>`;
}

const BUTTON_KINDS = new Set(['default', 'primary', 'danger', 'primary_filled', 'danger_filled', 'laser', 'text']);

function dingtalkHtml(type: string, body: Json): string {
  const part = obj(body[type]);
  switch (type) {
    case 'text':
      return `<div class="text">${plain(str(part['content']))}</div>`;
    case 'markdown':
      return `<div class="md">${renderMarkdown(str(part['text']))}</div>`;
    case 'link':
      return `<div class="card link-card">${link(`<strong>${escapeHtml(str(part['title']))}</strong>`, part['messageUrl'])}<div class="text">${plain(str(part['text']))}</div></div>`;
    case 'actionCard': {
      const single = part['singleTitle'] !== undefined;
      const items = single ? [{ title: str(part['singleTitle']), url: part['singleURL'] }] : arr(part['btns']).map((button) => ({ title: str(obj(button)['title']), url: obj(button)['actionURL'] }));
      return `<div class="card action-card"><div class="md">${renderMarkdown(str(part['text']))}</div>${buttons(items, str(part['btnOrientation']) !== '1')}</div>`;
    }
    case 'feedCard':
      return `<div class="card feed-card"><ul>${arr(part['links'])
        .map((item) => `<li>${link(escapeHtml(str(obj(item)['title'])), obj(item)['messageURL'])}</li>`)
        .join('')}</ul></div>`;
    default:
      return `<div class="unknown">[${escapeHtml(type)}]</div>`;
  }
}

/** Lark's `{tag: plain_text | lark_md, content}` text objects. */
function larkText(value: unknown): string {
  const text = obj(value);
  const content = str(text['content']);
  return text['tag'] === 'lark_md' ? renderMarkdown(content, 'lark') : plain(content);
}

/** The colours of Lark's card header templates. */
const HEADER_TEMPLATES = new Set(['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default']);

function larkElement(element: unknown): string {
  const item = obj(element);
  switch (item['tag']) {
    case 'div': {
      const fields = arr(item['fields']).map((field) => `<div class="field${obj(field)['is_short'] === true ? ' short' : ''}">${larkText(obj(field)['text'])}</div>`);
      return `<div class="div">${item['text'] !== undefined ? larkText(item['text']) : ''}${fields.length > 0 ? `<div class="fields">${fields.join('')}</div>` : ''}</div>`;
    }
    case 'markdown':
      return `<div class="md">${renderMarkdown(str(item['content']), 'lark')}</div>`;
    case 'hr':
      return '<hr>';
    case 'action':
      return buttons(
        arr(item['actions']).map((action) => {
          const button = obj(action);
          return { title: str(obj(button['text'])['content']), url: button['url'] ?? obj(button['multi_url'])['url'], kind: str(button['type']) };
        }),
        false,
      );
    case 'button': {
      return buttons([{ title: str(obj(item['text'])['content']), url: item['url'] ?? obj(item['multi_url'])['url'], kind: str(item['type']) }], false);
    }
    case 'note':
      return `<div class="note">${arr(item['elements'])
        .map((part) => (obj(part)['tag'] === 'img' ? '[image]' : larkText(part)))
        .join(' ')}</div>`;
    case 'img':
      return `<div class="image">[image${str(obj(item['alt'])['content']) === '' ? '' : `: ${escapeHtml(str(obj(item['alt'])['content']))}`}]</div>`;
    case 'column_set':
      return `<div class="columns">${arr(item['columns'])
        .map((column) => `<div class="column">${arr(obj(column)['elements']).map(larkElement).join('')}</div>`)
        .join('')}</div>`;
    default:
      return `<div class="unknown">[${escapeHtml(str(item['tag']) || 'element')}]</div>`;
  }
}

function larkCard(card: Json): string {
  if (card['type'] === 'template') return `<div class="card lark-card"><div class="unknown">[template card ${escapeHtml(str(obj(card['data'])['template_id']))}]</div></div>`;
  const header = obj(card['header']);
  const template = str(header['template']);
  const title = obj(header['title']);
  const elements = arr(card['elements'] ?? obj(card['body'])['elements'] ?? obj(card['i18n_elements'])['zh_cn'] ?? obj(card['i18n_elements'])['en_us']);
  const head = card['header'] === undefined ? '' : `<div class="card-header template-${HEADER_TEMPLATES.has(template) ? template : 'default'}">${larkText({ tag: title['tag'] ?? 'plain_text', content: title['content'] })}</div>`;
  return `<div class="card lark-card">${head}<div class="card-body">${elements.map(larkElement).join('')}</div></div>`;
}

function larkPost(post: Json): string {
  const locale = obj(post['zh_cn'] ?? post['en_us'] ?? Object.values(post)[0]);
  const lines = arr(locale['content']).map((line) =>
    arr(line)
      .map((element) => {
        const item = obj(element);
        switch (item['tag']) {
          case 'text':
            return plain(str(item['text']));
          case 'a':
            return link(escapeHtml(str(item['text'])), item['href']);
          case 'at':
            return `<span class="at">@${escapeHtml(str(item['user_name']) || str(item['user_id']))}</span>`;
          case 'md':
            return renderMarkdown(str(item['text']), 'lark');
          case 'img':
            return '[image]';
          case 'emotion':
            return `:${escapeHtml(str(item['emoji_type']))}:`;
          case 'hr':
            return '<hr>';
          default:
            return `[${escapeHtml(str(item['tag']))}]`;
        }
      })
      .join(''),
  );
  const title = str(locale['title']);
  return `<div class="post">${title === '' ? '' : `<div class="post-title">${escapeHtml(title)}</div>`}${lines.map((line) => `<p>${line}</p>`).join('')}</div>`;
}

function larkHtml(type: string, body: Json): string {
  const content = obj(body['content']);
  switch (type) {
    case 'text':
      return `<div class="text">${plain(str(content['text']))}</div>`;
    case 'post':
      return larkPost(obj(content['post']));
    case 'interactive':
      return larkCard(obj(body['card']));
    case 'image':
      return `<div class="image">[image ${escapeHtml(str(content['image_key']))}]</div>`;
    case 'share_chat':
      return `<div class="unknown">[shared chat ${escapeHtml(str(content['share_chat_id']))}]</div>`;
    default:
      return `<div class="unknown">[${escapeHtml(type)}]</div>`;
  }
}

/**
 * DingTalk shows a mention where the text says `@<userId>` (or `@<mobile>`) and `at` lists it;
 * `isAtAll` adds "@all" when the text does not say it.
 */
function dingtalkMentions(html: string, body: Json): string {
  const at = obj(body['at']);
  const ids = [...arr(at['atUserIds']), ...arr(at['atMobiles'])].map(str).filter((id) => id !== '');
  // Text between tags only: a user@host inside an href stays as it is.
  const marked = html
    .split(/(<[^>]*>)/)
    .map((part, index) => (index % 2 === 1 ? part : ids.reduce((text, id) => text.split(`@${escapeHtml(id)}`).join(`\u0000${escapeHtml(id)}\u0001`), part)))
    .join('')
    .replace(/\u0000([^\u0001]*)\u0001/g, '<span class="at">@$1</span>');
  return at['isAtAll'] === true && !marked.includes('@all') ? `${marked}<div class="at">@all</div>` : marked;
}

/** The message's body as the group shows it (without the sender line). */
export function messageBodyHtml(message: Pick<AcceptedMessage, 'platform' | 'type' | 'body'>): string {
  return message.platform === 'dingtalk' ? dingtalkMentions(dingtalkHtml(message.type, message.body), message.body) : larkHtml(message.type, message.body);
}

/** One message as a list item of its group: who sent it and when, then its body. */
export function messageHtml(message: AcceptedMessage): string {
  const time = new Date(message.at).toISOString().slice(11, 19);
  return (
    `<li class="message ${message.platform}" id="m-${message.seq}" data-seq="${message.seq}">` +
    `<div class="sender">${escapeHtml(message.robot)} <span class="meta">${message.platform} · ${escapeHtml(message.type)} · ${time} UTC</span></div>` +
    `${messageBodyHtml(message)}</li>`
  );
}
