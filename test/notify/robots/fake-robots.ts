import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A small fake of the two custom-robot endpoints, written from the documented algorithm rather than
 * from rollcall's sign.ts: it checks the access token, the timestamp window and the signature the
 * way DingTalk and Lark do, and answers with their error codes. Tests may script answers ahead.
 */

/** One request the fake received. */
export interface RobotRequest {
  platform: 'dingtalk' | 'lark';
  /** Path and query exactly as sent. */
  url: string;
  query: URLSearchParams;
  /** The hook token (Lark) or access_token (DingTalk). */
  token: string;
  body: Record<string, unknown>;
}

/** An answer to send instead of the fake's own: the next request gets the first one. */
export interface ScriptedAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** JSON unless a string; a function builds it from the request (to echo what was sent). */
  body: unknown;
}

export interface FakeRobotsOptions {
  dingtalk: { token: string; secret?: string };
  lark: { token: string; secret?: string };
  /** The fake's clock, epoch ms. */
  now?: () => number;
}

const HOUR_MS = 60 * 60_000;

/** Starts the fake on 127.0.0.1; close it after the test. */
export async function startFakeRobots(options: FakeRobotsOptions) {
  const requests: RobotRequest[] = [];
  const script: ScriptedAnswer[] = [];
  const now = options.now ?? Date.now;

  const reply = (response: ServerResponse, answer: ScriptedAnswer) => {
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    response.writeHead(answer.status ?? 200, { 'content-type': typeof answer.body === 'string' ? 'text/html' : 'application/json', ...answer.headers });
    response.end(text);
  };

  const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

  const dingtalk = (url: URL, body: Record<string, unknown>): unknown => {
    const token = url.searchParams.get('access_token') ?? '';
    if (token !== options.dingtalk.token) return { errcode: 300001, errmsg: 'token is not exist' };
    const secret = options.dingtalk.secret;
    if (secret !== undefined) {
      const timestamp = url.searchParams.get('timestamp') ?? '';
      const sign = url.searchParams.get('sign') ?? '';
      if (!/^\d{13}$/.test(timestamp) || Math.abs(Number(timestamp) - now()) > HOUR_MS) return { errcode: 310000, errmsg: 'invalid timestamp' };
      const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
      if (!sameText(sign, expected)) return { errcode: 310000, errmsg: 'sign not match' };
    }
    if (typeof body.msgtype !== 'string') return { errcode: 40035, errmsg: '缺少参数 json' };
    return { errcode: 0, errmsg: 'ok' };
  };

  const lark = (token: string, body: Record<string, unknown>): unknown => {
    if (token !== options.lark.token) return { code: 19001, msg: 'param invalid: incoming webhook access token invalid', data: {} };
    const secret = options.lark.secret;
    if (secret !== undefined) {
      const timestamp = typeof body.timestamp === 'string' ? body.timestamp : '';
      const sign = typeof body.sign === 'string' ? body.sign : '';
      const expected = createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
      if (!/^\d{10}$/.test(timestamp) || Math.abs(Number(timestamp) * 1_000 - now()) > HOUR_MS || !sameText(sign, expected)) {
        return { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time', data: {} };
      }
    }
    if (typeof body.msg_type !== 'string') return { code: 9499, msg: 'Bad Request', data: {} };
    return { code: 0, msg: 'success', data: {} };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://fake');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // an empty object makes the platform checks answer "bad request"
      }
      const hook = /^\/open-apis\/bot\/v2\/hook\/([^/]+)$/.exec(url.pathname);
      if (request.method !== 'POST' || (url.pathname !== '/robot/send' && hook === null)) return reply(response, { status: 404, body: '<h1>not found</h1>' });
      const platform = hook === null ? 'dingtalk' : 'lark';
      const token = hook === null ? (url.searchParams.get('access_token') ?? '') : decodeURIComponent(hook[1] ?? '');
      requests.push({ platform, url: request.url ?? '', query: url.searchParams, token, body });
      const scripted = script.shift();
      if (scripted !== undefined) {
        const built = typeof scripted.body === 'function' ? (scripted.body as (request: RobotRequest) => unknown)(requests.at(-1) as RobotRequest) : scripted.body;
        return reply(response, { ...scripted, body: built });
      }
      return reply(response, { body: platform === 'dingtalk' ? dingtalk(url, body) : lark(token, body) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    base,
    requests,
    /** The DingTalk webhook of the fake's robot (or of another token). */
    dingtalkUrl: (token = options.dingtalk.token) => `${base}/robot/send?access_token=${token}`,
    /** The Lark webhook of the fake's bot (or of another token). */
    larkUrl: (token = options.lark.token) => `${base}/open-apis/bot/v2/hook/${token}`,
    /** Queues answers for the next requests, in order; the fake's own checks resume after them. */
    answerNext(...answers: ScriptedAnswer[]) {
      script.push(...answers);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeRobots = Awaited<ReturnType<typeof startFakeRobots>>;
