import { describe, expect, it } from 'vitest';
import { escapeHtml, messageBodyHtml, renderMarkdown, safeHref } from '../../../src/emulators/chat/chat-message-html.js';
import type { GroupPageEvent } from '../../../src/emulators/chat/group-page.js';
import type { NotifyEvent, RequestRefusedEvent } from '../../../src/notify/events.js';
import { renderDingtalk } from '../../../src/notify/render-dingtalk.js';
import { renderLark } from '../../../src/notify/render-lark.js';
import { applied, received } from '../../notify/render-fixtures.js';
import { post, robotServers, type RobotServer } from './robot-fixture.js';

const start = robotServers();

const robots = {
  dingtalk: [{ accessToken: 'd', group: 'ops', name: 'rollcall' }],
  lark: [
    { hookToken: 'l', group: 'hr' },
    { hookToken: 'q', group: 'quiet' },
  ],
};

const dingtalk = (server: RobotServer, body: unknown) => post(`${server.url}/robot/send?access_token=d`, body);
const lark = (server: RobotServer, body: unknown) => post(`${server.url}/open-apis/bot/v2/hook/l`, body);

/** The events of an SSE stream, read as they come. */
function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async function next(): Promise<{ id?: string; event: string; data: string }> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
        }
        if (!fields.has('data')) continue; // retry: and comments
        return { ...(fields.has('id') ? { id: fields.get('id')! } : {}), event: fields.get('event') ?? 'message', data: fields.get('data')! };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

describe('the markdown renderer', () => {
  it('renders headings, bold, italics, lists, links, quotes, rules and line breaks', () => {
    const html = renderMarkdown(['# Applied', '**3** accounts, *one* ~~old~~ `code**x**`', 'next line', '', '- alice', '- bob', '1. first', '> quoted', '---', '[PR](https://example.com/pr/1?a=1&b=2)'].join('\n'));
    expect(html).toBe(
      '<h3>Applied</h3>' +
        '<p><strong>3</strong> accounts, <em>one</em> <del>old</del> <code>code**x**</code><br>next line</p>' +
        '<ul><li>alice</li><li>bob</li></ul>' +
        '<ol><li>first</li></ol>' +
        '<blockquote>quoted</blockquote>' +
        '<hr>' +
        '<p><a href="https://example.com/pr/1?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">PR</a></p>',
    );
  });

  it('escapes before it formats, and links only http(s)', () => {
    expect(renderMarkdown('<img src=x onerror=alert(1)> **<b>**')).toBe('<p>&lt;img src=x onerror=alert(1)&gt; <strong>&lt;b&gt;</strong></p>');
    expect(renderMarkdown('[click](javascript:alert(1))')).not.toContain('href');
    expect(renderMarkdown('[x](https://a"onmouseover="alert(1))')).toBe('<p><a href="https://a&quot;onmouseover=&quot;alert(1" target="_blank" rel="noopener noreferrer">x</a>)</p>');
    expect(safeHref('dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fexample.com%2Fs&pc_slide=false')).toBe('https://example.com/s');
    expect(safeHref('data:text/html,hi')).toBeUndefined();
    expect(safeHref('mailto:a@b.com')).toBeUndefined();
    expect(safeHref('dingtalk://dingtalkclient/page/link?url=javascript%3Aalert(1)')).toBeUndefined();
    expect(safeHref('HTTPS://example.com/')).toBe('HTTPS://example.com/');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    // Lark's mention and colour markup, the only tags it knows, come out as text spans.
    expect(renderMarkdown(`<at id=ou_1></at> <font color='red'>failed</font> <font color='x;background:url(y)'>z</font>`)).toBe(
      `<p><span class="at">@ou_1</span> <span style="color: red">failed</span> &lt;font color=&#39;x;background:url(y)&#39;&gt;z&lt;/font&gt;</p>`,
    );
  });
  it("shows what the author wrote literally as itself: DingTalk's backslash escapes, lark_md's entities", () => {
    expect(renderMarkdown(String.raw`\# not a heading, \*not em\*, zhang\_san, \[x\](https://e/) 1\. \<b\> \\`)).toBe(
      '<p># not a heading, *not em*, zhang_san, [x](https://e/) 1. &lt;b&gt; \\</p>',
    );
    expect(renderMarkdown(String.raw`\- item`)).toBe('<p>- item</p>');
    // In a code span the backslash stays (CommonMark).
    expect(renderMarkdown('`a\\*b` \\`c\\`')).toBe(String.raw`<p><code>a\*b</code> ${'`'}c${'`'}</p>`);
    // lark_md: entities are characters, so an escaped mention or tag is text, and a real one is markup.
    expect(renderMarkdown('&lt;at id=ou_1&gt;&lt;/at&gt; &#42;&#42;x&#42;&#42; &amp;lt; &#x5F;y&#95; <at id=ou_2></at>', 'lark')).toBe(
      '<p>&lt;at id=ou_1&gt;&lt;/at&gt; **x** &amp;lt; _y_ <span class="at">@ou_2</span></p>',
    );
    // DingTalk markdown does not decode entities, and lark_md has no backslash escapes.
    expect(renderMarkdown('&#42;')).toBe('<p>&amp;#42;</p>');
    expect(renderMarkdown(String.raw`\*x\*`, 'lark')).toBe(String.raw`<p>\<em>x\</em></p>`);
    // Placeholder characters in the input are not placeholders, and odd entities stay text.
    expect(renderMarkdown('\uE00060\uE001 &#0; &#1114112; &bogus;', 'lark')).toBe('<p>\uFFFD60\uFFFD &amp;#0; &amp;#1114112; &amp;bogus;</p>');
    // A link's target may carry an entity; it is decoded before the scheme is checked.
    expect(renderMarkdown('[a](https://e/?x=1&amp;y=2) [b](javascript&#58;void)', 'lark')).toBe(
      '<p><a href="https://e/?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">a</a> <span>b</span></p>',
    );
  });
});

describe('message bodies', () => {
  it('show DingTalk action cards and feed cards with their buttons as links', () => {
    const card = messageBodyHtml({
      platform: 'dingtalk',
      type: 'actionCard',
      body: { msgtype: 'actionCard', actionCard: { title: 't', text: '### Plan', btnOrientation: '1', btns: [{ title: 'Pull request', actionURL: 'https://git.example/pr/7' }, { title: 'Status', actionURL: 'javascript:alert(1)' }] } },
    });
    expect(card).toContain('<h5>Plan</h5>');
    expect(card).toContain('<div class="buttons"><a class="button default" href="https://git.example/pr/7" target="_blank" rel="noopener noreferrer">Pull request</a><span class="button default">Status</span></div>');
    const feed = messageBodyHtml({ platform: 'dingtalk', type: 'feedCard', body: { feedCard: { links: [{ title: 'one', messageURL: 'https://e/1' }] } } });
    expect(feed).toContain('<li><a href="https://e/1" target="_blank" rel="noopener noreferrer">one</a></li>');
  });

  it('mark DingTalk mentions the message lists in `at`', () => {
    const html = messageBodyHtml({ platform: 'dingtalk', type: 'markdown', body: { markdown: { title: 't', text: 'done @u-1, not @u-2' }, at: { atUserIds: ['u-1'], isAtAll: true } } });
    expect(html).toBe('<div class="md"><p>done <span class="at">@u-1</span>, not @u-2</p></div><div class="at">@all</div>');
    const inHref = messageBodyHtml({ platform: 'dingtalk', type: 'markdown', body: { markdown: { title: 't', text: '[repo](https://git@b.com/r) @b.com' }, at: { atUserIds: ['b.com'] } } });
    expect(inHref).toBe('<div class="md"><p><a href="https://git@b.com/r" target="_blank" rel="noopener noreferrer">repo</a> <span class="at">@b.com</span></p></div>');
  });

  it('show a Lark card: header in its colour, lark_md fields, hr, link buttons', () => {
    const html = messageBodyHtml({
      platform: 'lark',
      type: 'interactive',
      body: {
        msg_type: 'interactive',
        card: {
          header: { title: { tag: 'plain_text', content: 'Applied: 2 ok, 1 failed' }, template: 'red' },
          elements: [
            { tag: 'div', text: { tag: 'lark_md', content: '**web-1** failed' }, fields: [{ is_short: true, text: { tag: 'lark_md', content: '**login**\nalice' } }] },
            { tag: 'hr' },
            { tag: 'action', actions: [{ tag: 'button', text: { tag: 'plain_text', content: 'History' }, type: 'primary', url: 'https://e/h' }] },
          ],
        },
      },
    });
    expect(html).toContain('<div class="card-header template-red">Applied: 2 ok, 1 failed</div>');
    expect(html).toContain('<p><strong>web-1</strong> failed</p>');
    expect(html).toContain('<div class="field short"><p><strong>login</strong><br>alice</p></div>');
    expect(html).toContain('<hr>');
    expect(html).toContain('<a class="button primary" href="https://e/h" target="_blank" rel="noopener noreferrer">History</a>');
    const unknownColour = messageBodyHtml({ platform: 'lark', type: 'interactive', body: { card: { header: { title: { content: 'x' }, template: 'x" onclick="y' }, elements: [] } } });
    expect(unknownColour).toContain('template-default');
  });

  it('show Lark posts and texts with their mentions', () => {
    const html = messageBodyHtml({
      platform: 'lark',
      type: 'post',
      body: { content: { post: { zh_cn: { title: '提醒', content: [[{ tag: 'text', text: '请 ' }, { tag: 'at', user_id: 'ou_1', user_name: '张三' }, { tag: 'a', text: '查看', href: 'https://e/s' }]] } } } },
    });
    expect(html).toBe('<div class="post"><div class="post-title">提醒</div><p>请 <span class="at">@张三</span><a href="https://e/s" target="_blank" rel="noopener noreferrer">查看</a></p></div>');
    expect(messageBodyHtml({ platform: 'lark', type: 'text', body: { content: { text: 'hi <at user_id="ou_2">Li</at>\nbye' } } })).toBe('<div class="text">hi <span class="at">@Li</span><br>bye</div>');
  });
});

/** What a reader sees of an HTML fragment: its text, tags gone, entities decoded, spaces collapsed. */
function visibleText(html: string): string {
  const text = html
    .replace(/<(br|\/p|\/li|\/div|hr)[^>]*>/g, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|#39|amp);/g, (_all, name: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[name]!);
  return text.replace(/\s+/g, ' ').trim();
}

/** An event as rollcall's renderer for the platform sends it, shown as the page shows it. */
function renderedHtml(platform: 'dingtalk' | 'lark', event: NotifyEvent, language: 'en' | 'zh'): string {
  if (platform === 'dingtalk') {
    const body = renderDingtalk(event, { language });
    return messageBodyHtml({ platform, type: body.msgtype, body: { ...body } });
  }
  const body = renderLark(event, { language });
  return messageBodyHtml({ platform, type: body.msg_type, body: { ...body } });
}

describe("rollcall's own messages", () => {
  // Text that means something in markdown or lark_md: rollcall escapes it, the page must undo exactly that.
  const reason = 'Login *root* or _admin_ is reserved: [see](x) <at id=all></at> & &lt; #1 ~~no~~ `code` a\\b';
  const refused: RequestRefusedEvent = { kind: 'request-refused', approval: received.approval, reason };

  it.each(['dingtalk', 'lark'] as const)('show on %s what they say, literally: no escape shows, no markup is made', (platform) => {
    const html = renderedHtml(platform, refused, 'en');
    expect(visibleText(html)).toContain(reason);
    expect(html).not.toMatch(/<(em|strong|a|del|code)>[^<]*(root|admin|see|no|code)/);
    expect(html).not.toContain('class="at">@all');
  });

  it.each(['dingtalk', 'lark'] as const)('show on %s their links, as buttons under a card, and the logins', (platform) => {
    const html = (event: NotifyEvent) => renderedHtml(platform, event, 'zh');
    const hrefs = (fragment: string, pattern: RegExp) => [...fragment.matchAll(pattern)].map((match) => match[1]);
    // Received mentions the requester: DingTalk then sends markdown with the links inline.
    const receivedHtml = html(received);
    expect(visibleText(receivedHtml)).toContain('alice');
    expect(hrefs(receivedHtml, /<a [^>]*href="([^"]+)"/g)).toEqual(['https://github.com/acme/access/pull/42', 'https://rollcall.example.com/status']);
    const appliedHtml = html(applied);
    expect(visibleText(appliedHtml)).toContain('zhang_san');
    expect(hrefs(appliedHtml, /<a class="button [a-z_]+" href="([^"]+)"/g)).toEqual(['https://rollcall.example.com/status', 'https://rollcall.example.com/history/E1001']);
  });
});

describe('GET /chat', () => {
  it('shows a column per group, every message in order, newest at the bottom', async () => {
    const server = await start({ robots });
    await dingtalk(server, { msgtype: 'markdown', markdown: { title: 'applied', text: '## Applied\n- **alice** created' } });
    await lark(server, { msg_type: 'text', content: { text: 'hr news' } });
    await dingtalk(server, { msgtype: 'text', text: { content: 'second in ops' } });

    const response = await fetch(`${server.url}/chat`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    const sections = [...html.matchAll(/<section class="group" data-group="([^"]+)">/g)].map((match) => match[1]);
    expect(sections).toEqual(['ops', 'hr', 'quiet']);
    const ops = html.slice(html.indexOf('data-group="ops"'), html.indexOf('data-group="hr"'));
    expect(ops.indexOf('id="m-1"')).toBeGreaterThan(0);
    expect(ops.indexOf('id="m-3"')).toBeGreaterThan(ops.indexOf('id="m-1"'));
    expect(ops).not.toContain('id="m-2"');
    expect(ops).toContain('<h4>Applied</h4><ul><li><strong>alice</strong> created</li></ul>');
    expect(html).toContain('data-after="3"');
    // No external assets: no src=, no stylesheet link; the one script carries the CSP nonce.
    expect(html).not.toMatch(/\ssrc=|<link/);
    const nonce = /<script nonce="([^"]+)">/.exec(html)?.[1];
    expect(response.headers.get('content-security-policy')).toContain(`script-src 'nonce-${nonce}'`);
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it('shows untrusted content as text: no script, handler or javascript: link gets through', async () => {
    const server = await start({ robots: { ...robots, dingtalk: [{ accessToken: 'd', group: '<img src=x onerror=alert(1)>' }] } });
    await dingtalk(server, { msgtype: 'text', text: { content: '<script>alert("text")</script>' } });
    await dingtalk(server, { msgtype: 'markdown', markdown: { title: 't', text: '<script>alert(1)</script> [x](javascript:alert(2))' } });
    await dingtalk(server, { msgtype: 'actionCard', actionCard: { title: 't', text: 'x', singleTitle: '<b onclick=alert(3)>go</b>', singleURL: 'javascript:alert(4)' } });
    await lark(server, {
      msg_type: 'interactive',
      card: { header: { title: { tag: 'lark_md', content: '<script>alert(5)</script>' }, template: 'blue' }, elements: [{ tag: 'markdown', content: '<iframe src=//evil>' }] },
    });

    const html = await (await fetch(`${server.url}/chat`)).text();
    const body = html.slice(html.indexOf('<main'), html.indexOf('<script nonce'));
    expect(body).toContain('&lt;script&gt;alert(&quot;text&quot;)&lt;/script&gt;');
    expect(body).toContain('&lt;script&gt;alert(5)&lt;/script&gt;');
    expect(body).toContain('&lt;iframe src=//evil&gt;');
    // Escaped text may say "onclick="; no tag may carry it, and no link may run script.
    expect(body).not.toMatch(/<(script|iframe|img|b)[\s>]/);
    // (quoted attribute values emptied first: a raw " only ever delimits one, content's are &quot;)
    expect(body.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]*\son\w+=/);
    expect(body).not.toMatch(/href="javascript/);
    expect(body).toContain('data-group="&lt;img src=x onerror=alert(1)&gt;"');
  });

  it('answers GET only', async () => {
    const server = await start({ robots });
    const response = await fetch(`${server.url}/chat`, { method: 'POST', body: '' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});

describe('GET /chat/events', () => {
  it('streams the groups, the messages kept so far, then each new one as it is accepted', async () => {
    const server = await start({ robots });
    await dingtalk(server, { msgtype: 'text', text: { content: 'one' } });
    await lark(server, { msg_type: 'text', content: { text: '<script>two</script>' } });

    const controller = new AbortController();
    const response = await fetch(`${server.url}/chat/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const next = sseReader(response);
    expect(await next()).toEqual({ event: 'groups', data: JSON.stringify(['ops', 'hr', 'quiet']) });
    const first = await next();
    expect(first.id).toBe('1');
    expect(first.event).toBe('message');
    expect(JSON.parse(first.data)).toMatchObject({ seq: 1, group: 'ops', platform: 'dingtalk', robot: 'rollcall', type: 'text' });
    const second = JSON.parse((await next()).data) as GroupPageEvent;
    expect(second).toMatchObject({ seq: 2, group: 'hr', platform: 'lark' });
    expect(second.html).toContain('&lt;script&gt;two&lt;/script&gt;');
    expect(second.html).toMatch(/^<li class="message lark" id="m-2" data-seq="2">/);

    await dingtalk(server, { msgtype: 'markdown', markdown: { title: 't', text: '**live**' } });
    const live = await next();
    expect(live.id).toBe('3');
    expect((JSON.parse(live.data) as GroupPageEvent).html).toContain('<strong>live</strong>');
    expect(server.page.streams).toBe(1);
    controller.abort();
    await expect.poll(() => server.page.streams).toBe(0);
  });

  it('resumes after the page\'s last message (after=) or the EventSource\'s Last-Event-ID', async () => {
    const server = await start({ robots });
    for (const content of ['one', 'two', 'three']) await dingtalk(server, { msgtype: 'text', text: { content } });

    const byQuery = sseReader(await fetch(`${server.url}/chat/events?after=2`));
    await byQuery(); // groups
    expect((await byQuery()).id).toBe('3');

    const byHeader = sseReader(await fetch(`${server.url}/chat/events`, { headers: { 'last-event-id': '1' } }));
    await byHeader();
    expect((await byHeader()).id).toBe('2');
    expect((await byHeader()).id).toBe('3');

    server.page.close();
    await expect(byQuery()).rejects.toThrow('the stream ended');
  });
});

describe("the page's script", () => {
  /** Just enough DOM and EventSource for the script: sections with lists that record what is inserted. */
  function fakeBrowser(html: string) {
    const lists = new Map<string, { scrollTop: number; scrollHeight: number; clientHeight: number; inserted: string[]; insertAdjacentHTML(where: string, fragment: string): void }>();
    const makeList = () => ({
      scrollTop: 0,
      scrollHeight: 100,
      clientHeight: 100,
      inserted: [] as string[],
      insertAdjacentHTML(where: string, fragment: string) {
        expect(where).toBe('beforeend');
        this.inserted.push(fragment);
      },
    });
    const sections = [...html.matchAll(/<section class="group" data-group="([^"]*)">/g)].map((match) => {
      const list = makeList();
      lists.set(match[1]!, list);
      return { dataset: { group: match[1]! }, querySelector: () => list };
    });
    const ids = new Set([...html.matchAll(/id="(m-\d+)"/g)].map((match) => match[1]!));
    const listeners = new Map<string, (event: { data: string }) => void>();
    let sourceUrl = '';
    const main = {
      dataset: { after: /data-after="(\d+)"/.exec(html)![1]! },
      querySelectorAll: (selector: string) => (selector === 'section.group' ? sections : [...lists.values()]),
      querySelector: () => null,
      appendChild: (section: { dataset: { group: string }; list: ReturnType<typeof makeList> }) => {
        lists.set(section.dataset.group, section.list);
        sections.push({ dataset: section.dataset, querySelector: () => section.list });
      },
    };
    const status = { textContent: '' };
    const document = {
      getElementById: (id: string) => (id === 'groups' ? main : id === 'status' ? status : ids.has(id) ? {} : null),
      createElement: (tag: string) => {
        if (tag === 'ol') return makeList();
        const element = {
          dataset: {} as { group: string },
          className: '',
          textContent: '',
          list: undefined as unknown,
          appendChild(child: unknown) {
            if (tag === 'section' && typeof child === 'object' && child !== null && 'inserted' in child) element.list = child;
          },
        };
        return element;
      },
    };
    class EventSource {
      constructor(url: string) {
        sourceUrl = url;
      }
      addEventListener(name: string, listener: (event: { data: string }) => void) {
        listeners.set(name, listener);
      }
    }
    return { context: { document, EventSource }, lists, listeners, status, url: () => sourceUrl };
  }

  it('asks for the messages after those on the page and appends each new one to its group, once', async () => {
    const { runInNewContext } = await import('node:vm');
    const server = await start({ robots });
    await dingtalk(server, { msgtype: 'text', text: { content: 'on the page' } });
    const html = await (await fetch(`${server.url}/chat`)).text();
    const script = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const browser = fakeBrowser(html);
    runInNewContext(script, browser.context);
    expect(browser.url()).toBe('/chat/events?after=1');

    await lark(server, { msg_type: 'text', content: { text: 'live' } });
    const stream = sseReader(await fetch(`${server.url}/chat/events?after=1`));
    for (;;) {
      const event = await stream();
      browser.listeners.get(event.event)!({ data: event.data });
      if (event.id === '2') break;
    }
    browser.listeners.get('message')!({ data: JSON.stringify({ seq: 1, group: 'ops', html: '<li id="m-1">again</li>' }) });
    browser.listeners.get('message')!({ data: JSON.stringify({ seq: 9, group: 'new group', html: '<li id="m-9">x</li>' }) });
    browser.listeners.get('open')!({ data: '' });

    expect(browser.lists.get('hr')!.inserted).toHaveLength(1);
    expect(browser.lists.get('hr')!.inserted[0]).toContain('live');
    expect(browser.lists.get('ops')!.inserted).toEqual([]); // m-1 is on the page already
    expect(browser.lists.get('new group')!.inserted).toEqual(['<li id="m-9">x</li>']);
    expect(browser.status.textContent).toBe('live updates: on');
  });
});
