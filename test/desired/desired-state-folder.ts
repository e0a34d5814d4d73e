import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { SourceProblem } from '../../src/config/errors.js';
import { loadDesiredState } from '../../src/desired/load-desired-state.js';

/** YAML text from lines, so that a test reads line numbers off its own source. */
export function yamlLines(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/**
 * The smallest valid desired-state folder: one hostgroup, one role `dev` (group dev, gid 3001),
 * one user E1 `alice` (uid 20001) and one approval flow notifying channel `ops`.
 */
export const VALID_FILES: Readonly<Record<string, string>> = {
  'fleet.yaml': yamlLines(
    'region: cn-hangzhou',
    'hostgroups:',
    '  web: { tags: { app: web } }',
    'policy:',
    '  uidRange: [20000, 29999]',
  ),
  'roles/dev.yaml': yamlLines(
    'hostgroups: [web]',
    'groups: [{ name: dev, gid: 3001 }]',
    'sudo: ["ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx"]',
  ),
  'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [dev]'),
  'approvals.yaml': yamlLines(
    'flows:',
    '  - { platform: dingtalk, processCode: P1, request: onboard, roles: [dev], fields: { empId: a, login: b }, notify: ops }',
    'channels:',
    '  ops: { platform: dingtalk, webhookEnv: HOOK }',
  ),
};

/**
 * Writes {@link VALID_FILES} into a new folder under `parent`, with `overrides` on top: a string
 * replaces or adds a file, `null` leaves it out. Returns the folder.
 */
export async function writeDesiredState(parent: string, overrides: Readonly<Record<string, string | null>> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(parent, 'desired-'));
  for (const [relative, text] of Object.entries({ ...VALID_FILES, ...overrides })) {
    if (text === null) continue;
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), text);
  }
  return dir;
}

/** Loads `dir` (problems relative to it) and returns its problems; fails the test if it loaded. */
export async function loadProblems(dir: string): Promise<SourceProblem[]> {
  const result = await loadDesiredState(dir, { cwd: dir });
  expect(result.ok, 'expected the folder to be invalid').toBe(false);
  return result.ok ? [] : result.problems;
}

/** `[file, line, col, part of the message]`. */
export type ExpectedProblem = readonly [file: string, line: number, col: number, message: string];

/** Exactly these problems, in this order; messages compared by a distinctive part. */
export function expectProblems(problems: readonly SourceProblem[], expected: readonly ExpectedProblem[]): void {
  expect(problems).toEqual(expected.map(([file, line, col, message]) => ({ file, line, col, message: expect.stringContaining(message) })));
}
