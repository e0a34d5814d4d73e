import { describe, expect, it } from 'vitest';
import { statusLinks } from '../../src/reconcile/daemon.js';

describe('statusLinks (ROLLCALL_PUBLIC_URL)', () => {
  it('points chat messages at the status page under rollcall\'s public address, with or without a path', () => {
    expect(statusLinks(undefined)).toEqual({});
    expect(statusLinks('https://rollcall.example.com')).toEqual({ status: 'https://rollcall.example.com/status' });
    expect(statusLinks('https://ops.example.com/rollcall/')).toEqual({ status: 'https://ops.example.com/rollcall/status' });
    expect(statusLinks('http://10.0.0.5:8080/rollcall')).toEqual({ status: 'http://10.0.0.5:8080/rollcall/status' });
  });

  it('refuses what is not an http(s) URL, saying what to set', () => {
    expect(() => statusLinks('rollcall.example.com')).toThrow(/ROLLCALL_PUBLIC_URL is not a URL .*https:\/\/rollcall\.example\.com/);
    expect(() => statusLinks('ftp://rollcall.example.com')).toThrow(/must be http\(s\)/);
  });
});
