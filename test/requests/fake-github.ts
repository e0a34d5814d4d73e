import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A pull request as the fake keeps it. */
export interface FakePull {
  number: number;
  node_id: string;
  html_url: string;
  state: 'open' | 'closed';
  title: string;
  head: string;
  base: string;
  body: string;
  labels: string[];
  autoMerge?: string;
}

/** An answer the test puts in place of the fake's own, for one request. */
export interface Override {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * A small fake of the GitHub REST endpoints the github provider uses (pulls list and create, issue
 * labels, GraphQL enablePullRequestAutoMerge), with the real API's status codes and error bodies.
 * A pull request needs its head branch pushed to `originDir` (a real bare repository), as on GitHub.
 */
export async function startFakeGithub(options: { owner: string; repo: string; token: string; originDir: string }) {
  const pulls: FakePull[] = [];
  const requests: RecordedRequest[] = [];
  /** Returns an answer to use instead of the fake's own for this request, or undefined. */
  let intercept: ((request: RecordedRequest) => Override | undefined) | undefined;
  const prefix = `/repos/${options.owner}/${options.repo}`;

  const send = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(body === undefined ? '' : JSON.stringify(body));
  };
  const branchExists = (branch: string) => {
    try {
      execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: options.originDir, stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };

  const handle = (request: RecordedRequest, response: ServerResponse) => {
    const override = intercept?.(request);
    if (override) return send(response, override.status, override.body, override.headers);
    if (request.headers.authorization !== `Bearer ${options.token}`) return send(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const url = new URL(request.path, 'http://fake');
    if (request.method === 'GET' && url.pathname === `${prefix}/pulls`) {
      const head = url.searchParams.get('head') ?? '';
      const state = url.searchParams.get('state') ?? 'open';
      const found = pulls.filter((pull) => `${options.owner}:${pull.head}` === head && (state === 'all' || pull.state === state));
      return send(response, 200, found.map(view));
    }
    if (request.method === 'POST' && url.pathname === `${prefix}/pulls`) {
      const body = request.body as { title?: string; head?: string; base?: string; body?: string };
      if (!body.title || !body.head || !body.base) return send(response, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'missing_field' }] });
      if (!branchExists(body.head)) return send(response, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
      if (pulls.some((pull) => pull.head === body.head && pull.state === 'open')) {
        return send(response, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${options.owner}:${body.head}.` }] });
      }
      const number = pulls.length + 1;
      const pull: FakePull = { number, node_id: `PR_node${number}`, html_url: `https://github.example/${options.owner}/${options.repo}/pull/${number}`, state: 'open', title: body.title, head: body.head, base: body.base, body: body.body ?? '', labels: [] };
      pulls.push(pull);
      return send(response, 201, view(pull));
    }
    const labels = new RegExp(`^${prefix}/issues/(\\d+)/labels$`).exec(url.pathname);
    if (request.method === 'POST' && labels) {
      const pull = pulls.find((entry) => entry.number === Number(labels[1]));
      if (!pull) return send(response, 404, { message: 'Not Found' });
      for (const label of (request.body as { labels: string[] }).labels) if (!pull.labels.includes(label)) pull.labels.push(label);
      return send(response, 200, pull.labels.map((name) => ({ name })));
    }
    if (request.method === 'POST' && url.pathname === '/graphql') {
      const { query, variables } = request.body as { query: string; variables: { id: string; method: string } };
      const pull = pulls.find((entry) => entry.node_id === variables.id);
      if (!/enablePullRequestAutoMerge/.test(query) || !pull) return send(response, 200, { data: null, errors: [{ message: `Could not resolve to a node with the global id of '${variables.id}'` }] });
      pull.autoMerge = variables.method;
      return send(response, 200, { data: { enablePullRequestAutoMerge: { pullRequest: { number: pull.number } } } });
    }
    return send(response, 404, { message: 'Not Found' });
  };

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: RecordedRequest = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
      requests.push(request);
      handle(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pulls,
    requests,
    intercept(handler: typeof intercept) {
      intercept = handler;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function view(pull: FakePull) {
  return { number: pull.number, node_id: pull.node_id, html_url: pull.html_url, state: pull.state, title: pull.title, body: pull.body, merged_at: null, head: { ref: pull.head }, base: { ref: pull.base }, labels: pull.labels.map((name) => ({ name })) };
}
