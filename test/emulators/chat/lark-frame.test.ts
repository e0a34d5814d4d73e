import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { decodeLarkFrame, encodeLarkFrame, frameHeader, LARK_FRAME_METHOD } from '../../../src/emulators/chat/lark-frame.js';

describe('Lark pbbp2.Frame codec', () => {
  it('encodes the fields in number order with protobuf wire types (checked byte by byte)', () => {
    const bytes = encodeLarkFrame({ seqId: 1n, logId: 300n, service: 2, method: LARK_FRAME_METHOD.data, headers: [{ key: 'type', value: 'event' }], payload: Buffer.from('{}') });
    expect([...bytes]).toEqual([
      0x08, 0x01, // SeqID = 1
      0x10, 0xac, 0x02, // LogID = 300 (varint 0xac 0x02)
      0x18, 0x02, // service = 2
      0x20, 0x01, // method = 1
      0x2a, 0x0d, 0x0a, 0x04, ...Buffer.from('type'), 0x12, 0x05, ...Buffer.from('event'), // headers[0]
      0x42, 0x02, 0x7b, 0x7d, // payload
    ]);
  });

  it('round-trips every field, 64-bit ids and repeated headers included', () => {
    const frame = {
      seqId: 18_446_744_073_709_551_615n,
      logId: 7_000_000_000_123n,
      service: 33_554_678,
      method: LARK_FRAME_METHOD.control,
      headers: [
        { key: 'type', value: 'pong' },
        { key: 'trace_id', value: '追踪' },
      ],
      payloadEncoding: 'json',
      payloadType: 'text',
      payload: new Uint8Array([1, 2, 3]),
      logIdNew: 'abc',
    };
    const decoded = decodeLarkFrame(encodeLarkFrame(frame));
    expect({ ...decoded, payload: [...decoded.payload!] }).toEqual({ ...frame, payload: [1, 2, 3] });
    expect(frameHeader(decoded, 'trace_id')).toBe('追踪');
    expect(frameHeader(decoded, 'missing')).toBeUndefined();
  });

  it('skips unknown fields and refuses truncated frames or missing required fields', () => {
    const known = encodeLarkFrame({ seqId: 5n, logId: 6n, service: 7, method: 1, headers: [] });
    const withUnknown = Buffer.concat([known, Buffer.from([0x58, 0x09]) /* field 11 varint */, Buffer.from([0x62, 0x01, 0x41]) /* field 12 bytes */]);
    expect(decodeLarkFrame(withUnknown)).toMatchObject({ seqId: 5n, logId: 6n, service: 7, method: 1 });
    expect(() => decodeLarkFrame(known.subarray(0, known.length - 1))).toThrow(RollcallError);
    expect(() => decodeLarkFrame(Buffer.from([0x08, 0x01]))).toThrow(/required fields/);
  });
});
