import { describe, expect, it } from 'vitest';
import { dingtalkSign, larkSign } from '../../../src/notify/robots/sign.js';

describe('robot signatures (vectors from the reference)', () => {
  it('DingTalk: ms timestamp, key = secret, message = timestamp\\nsecret, URL-encoded', () => {
    expect(dingtalkSign(1_700_000_000_000, 'SECtest')).toBe('aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D');
  });

  it('Lark: s timestamp, key = timestamp\\nsecret, empty message, plain base64', () => {
    expect(larkSign(1_700_000_000, 'test')).toBe('eSJQnOl8XqPTMPHWz9e5IzeHS/tqoc68g2967ekIPmg=');
  });

  it('depends on every input', () => {
    const base = dingtalkSign(1_700_000_000_000, 'SECtest');
    expect(dingtalkSign(1_700_000_000_001, 'SECtest')).not.toBe(base);
    expect(dingtalkSign(1_700_000_000_000, 'SECtesT')).not.toBe(base);
    expect(larkSign(1_700_000_001, 'test')).not.toBe(larkSign(1_700_000_000, 'test'));
    expect(larkSign(1_700_000_000, 'tesT')).not.toBe(larkSign(1_700_000_000, 'test'));
  });
});
