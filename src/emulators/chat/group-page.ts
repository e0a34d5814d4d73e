import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, messageHtml } from './chat-message-html.js';
import type { AcceptedMessage, RobotWebhooks } from './robot-webhooks.js';

/**
 * The groups the robots post to, as a chat shows them: `GET /chat` is one page (no external
 * assets, no framework) with a column per group, messages oldest first and newest at the bottom;
 * `GET /chat/events` is a Server-Sent Events stream of the messages (those kept so far, then each
 * as it is accepted) that the page's small script appends. Messages are rendered to HTML here,
 * escaped (chat-message-html.ts), and the page's Content-Security-Policy runs only its own script.
 */

/** The page's paths. */
export const GROUP_PAGE_PATHS = { page: '/chat', events: '/chat/events' } as const;

export interface GroupPageOptions {
  /** A comment line on every open stream this often, so proxies keep it open. Default 15 000. */
  heartbeatMs?: number;
}

export interface GroupPage {
  /**
   * Answers `GET /chat` and `GET /chat/events` (other methods there: 405) and returns true;
   * returns false, touching nothing, for any other path.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  /** Open event streams. */
  readonly streams: number;
  /** Ends every event stream (before the server closes: a stream never ends by itself). */
  close(): void;
}

/** One SSE `message` event's data. */
export interface GroupPageEvent {
  seq: number;
  group: string;
  platform: AcceptedMessage['platform'];
  robot: string;
  at: number;
  type: string;
  /** The `<li>` the page appends to the group's list. */
  html: string;
}

/** The page and its event stream over the robots' kept messages. */
export function groupPage(webhooks: RobotWebhooks, options: GroupPageOptions = {}): GroupPage {
  const streams = new Set<ServerResponse>();
  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.write(': ping\n\n');
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  function events(request: IncomingMessage, response: ServerResponse, url: URL): void {
    // An EventSource that reconnects says where it was (Last-Event-ID); the page's first connection
    // says which messages it rendered already (`after`).
    const after = Number(request.headers['last-event-id'] ?? url.searchParams.get('after') ?? 0) || 0;
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    response.write(`retry: 2000\n\nevent: groups\ndata: ${JSON.stringify(webhooks.groups())}\n\n`);
    for (const message of webhooks.messages()) if (message.seq > after) response.write(sseMessage(message));
    streams.add(response);
    const unsubscribe = webhooks.onMessage((message) => response.write(sseMessage(message)));
    const end = () => {
      unsubscribe();
      streams.delete(response);
    };
    // The response's close, not the request's: a request "closes" once its body is read, long before the page goes away.
    response.on('close', end);
  }

  return {
    handle(request, response) {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== GROUP_PAGE_PATHS.page && url.pathname !== GROUP_PAGE_PATHS.events) return false;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' });
        response.end(`${url.pathname} answers GET only\n`);
        return true;
      }
      if (url.pathname === GROUP_PAGE_PATHS.events) {
        events(request, response, url);
        return true;
      }
      const nonce = randomBytes(16).toString('base64');
      const html = pageHtml(webhooks, nonce);
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(Buffer.byteLength(html)),
        'cache-control': 'no-store',
        // Defence in depth behind the escaping: no script but the page's own, nothing from elsewhere.
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'`,
        'x-content-type-options': 'nosniff',
      });
      response.end(request.method === 'HEAD' ? undefined : html);
      return true;
    },
    get streams() {
      return streams.size;
    },
    close() {
      clearInterval(heartbeat);
      for (const stream of streams) stream.end();
      streams.clear();
    },
  };
}

function sseMessage(message: AcceptedMessage): string {
  const event: GroupPageEvent = { seq: message.seq, group: message.group, platform: message.platform, robot: message.robot, at: message.at, type: message.type, html: messageHtml(message) };
  // JSON.stringify leaves no raw newline, so the data is one SSE line.
  return `id: ${message.seq}\nevent: message\ndata: ${JSON.stringify(event)}\n\n`;
}

function groupSection(group: string, messages: AcceptedMessage[]): string {
  return `<section class="group" data-group="${escapeHtml(group)}"><h2>${escapeHtml(group)}</h2><ol class="messages">${messages.map(messageHtml).join('')}</ol></section>`;
}

/** The page with every message kept so far; the script adds the rest. */
function pageHtml(webhooks: RobotWebhooks, nonce: string): string {
  const messages = webhooks.messages();
  const groups = [...new Set([...webhooks.groups(), ...messages.map((message) => message.group)])];
  const last = messages.at(-1)?.seq ?? 0;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rollcall · chat groups</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><h1>Chat groups</h1><span id="status" class="status">live updates: connecting</span></header>
<main id="groups" data-after="${last}">${groups.length === 0 ? '<p class="empty">No robots are configured.</p>' : ''}${groups.map((group) => groupSection(group, messages.filter((message) => message.group === group))).join('')}</main>
<script nonce="${nonce}">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; background: #eef0f3; color: #1f2329; }
header { display: flex; align-items: baseline; gap: 1em; padding: 8px 16px; background: #fff; border-bottom: 1px solid #dee0e3; }
h1 { font-size: 18px; margin: 0; }
.status { color: #8f959e; font-size: 12px; }
main { display: flex; gap: 12px; padding: 12px; align-items: flex-start; overflow-x: auto; }
.group { flex: 0 0 380px; background: #f5f6f7; border: 1px solid #dee0e3; border-radius: 8px; display: flex; flex-direction: column; max-height: calc(100vh - 80px); }
.group h2 { font-size: 15px; margin: 0; padding: 8px 12px; border-bottom: 1px solid #dee0e3; background: #fff; border-radius: 8px 8px 0 0; }
.messages { list-style: none; margin: 0; padding: 8px; overflow-y: auto; display: flex; flex-direction: column; gap: 10px; }
.message { background: #fff; border-radius: 8px; padding: 8px 10px; box-shadow: 0 1px 2px rgba(0,0,0,.06); overflow-wrap: anywhere; }
.message.dingtalk { border-left: 3px solid #3296fa; }
.message.lark { border-left: 3px solid #00d6b9; }
.sender { font-weight: 600; font-size: 12px; margin-bottom: 4px; }
.meta { font-weight: 400; color: #8f959e; }
.md p, .post p { margin: 4px 0; }
.md h3, .md h4, .md h5, .md h6 { margin: 6px 0 4px; }
.md ul, .md ol { margin: 4px 0; padding-left: 20px; }
blockquote { margin: 4px 0; padding-left: 8px; border-left: 3px solid #dee0e3; color: #646a73; }
code { background: #f2f3f5; padding: 0 3px; border-radius: 3px; }
.at { color: #3370ff; }
.card { border: 1px solid #dee0e3; border-radius: 6px; overflow: hidden; }
.card > .md, .card > .text, .card > ul, .card-body { padding: 6px 10px; }
.card-header { padding: 8px 10px; font-weight: 600; color: #fff; background: #3370ff; }
.card-header p { margin: 0; }
.template-blue { background: #3370ff; } .template-wathet { background: #7ec6f7; color: #1f2329; }
.template-turquoise { background: #04b49c; } .template-green { background: #2ea121; }
.template-yellow { background: #ffc60a; color: #1f2329; } .template-orange { background: #ff8800; }
.template-red { background: #f54a45; } .template-carmine { background: #e53e7e; }
.template-violet { background: #d136d1; } .template-purple { background: #7f3bf5; }
.template-indigo { background: #4954e6; } .template-grey { background: #8f959e; }
.template-default { background: #f2f3f5; color: #1f2329; }
.fields { display: flex; flex-wrap: wrap; gap: 4px 12px; }
.field { flex: 1 1 100%; } .field.short { flex: 1 1 40%; }
.field p, .div p { margin: 2px 0; }
.note { color: #8f959e; font-size: 12px; }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; padding: 6px 10px; }
.buttons.vertical { flex-direction: column; }
.button { display: inline-block; padding: 4px 12px; border: 1px solid #dee0e3; border-radius: 4px; text-decoration: none; color: #1f2329; background: #fff; text-align: center; }
.button.primary, .button.primary_filled { background: #3370ff; border-color: #3370ff; color: #fff; }
.button.danger, .button.danger_filled { color: #f54a45; border-color: #f54a45; }
span.button { color: #8f959e; }
.columns { display: flex; gap: 8px; } .column { flex: 1; }
.unknown, .image { color: #8f959e; font-style: italic; }
.empty { color: #8f959e; }
`;

// The page's script, as text: it builds group columns with DOM calls (names as textContent) and
// inserts only the server's escaped HTML of each message.
const PAGE_SCRIPT = `
(function () {
  var main = document.getElementById('groups');
  var status = document.getElementById('status');
  function column(name) {
    var sections = main.querySelectorAll('section.group');
    for (var i = 0; i < sections.length; i++) if (sections[i].dataset.group === name) return sections[i].querySelector('ol');
    var section = document.createElement('section');
    section.className = 'group';
    section.dataset.group = name;
    var title = document.createElement('h2');
    title.textContent = name;
    var list = document.createElement('ol');
    list.className = 'messages';
    section.appendChild(title);
    section.appendChild(list);
    main.appendChild(section);
    var empty = main.querySelector('.empty');
    if (empty) empty.remove();
    return list;
  }
  var lists = main.querySelectorAll('ol.messages');
  for (var i = 0; i < lists.length; i++) lists[i].scrollTop = lists[i].scrollHeight;
  var source = new EventSource('${GROUP_PAGE_PATHS.events}?after=' + encodeURIComponent(main.dataset.after || '0'));
  source.addEventListener('open', function () { status.textContent = 'live updates: on'; });
  source.addEventListener('error', function () { status.textContent = 'live updates: reconnecting'; });
  source.addEventListener('groups', function (event) { JSON.parse(event.data).forEach(column); });
  source.addEventListener('message', function (event) {
    var message = JSON.parse(event.data);
    if (document.getElementById('m-' + message.seq)) return;
    var list = column(message.group);
    var stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.insertAdjacentHTML('beforeend', message.html);
    if (stick) list.scrollTop = list.scrollHeight;
  });
})();
`;
