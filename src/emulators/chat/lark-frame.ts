import { RollcallError } from '../../config/errors.js';

/*
 * The one protobuf message Lark's long connection speaks (`pbbp2.Frame`), encoded and decoded by
 * hand: a few varints and length-delimited fields do not justify protobufjs as a dependency.
 *
 *   message Header { required string key = 1; required string value = 2; }
 *   message Frame {
 *     required uint64 SeqID = 1; required uint64 LogID = 2;
 *     required int32 service = 3; required int32 method = 4;    // method 0 control, 1 data
 *     repeated Header headers = 5;
 *     optional string payload_encoding = 6; optional string payload_type = 7;
 *     optional bytes payload = 8; optional string LogIDNew = 9;
 *   }
 */

/** `method` of a frame: control (ping/pong) or data (events and their acks). */
export const LARK_FRAME_METHOD = { control: 0, data: 1 } as const;

export interface LarkFrame {
  seqId: bigint;
  logId: bigint;
  service: number;
  method: number;
  /** In order; keys may repeat on the wire, the first one wins in `frameHeader`. */
  headers: Array<{ key: string; value: string }>;
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  logIdNew?: string;
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Encodes a frame as the SDK's generated code does (fields in number order, headers repeated). */
export function encodeLarkFrame(frame: LarkFrame): Buffer {
  const parts: Buffer[] = [
    varintField(1, frame.seqId),
    varintField(2, frame.logId),
    varintField(3, BigInt(nonNegative(frame.service, 'service'))),
    varintField(4, BigInt(nonNegative(frame.method, 'method'))),
  ];
  for (const header of frame.headers) {
    parts.push(bytesField(5, Buffer.concat([bytesField(1, Buffer.from(header.key, 'utf8')), bytesField(2, Buffer.from(header.value, 'utf8'))])));
  }
  if (frame.payloadEncoding !== undefined) parts.push(bytesField(6, Buffer.from(frame.payloadEncoding, 'utf8')));
  if (frame.payloadType !== undefined) parts.push(bytesField(7, Buffer.from(frame.payloadType, 'utf8')));
  if (frame.payload !== undefined) parts.push(bytesField(8, Buffer.from(frame.payload)));
  if (frame.logIdNew !== undefined) parts.push(bytesField(9, Buffer.from(frame.logIdNew, 'utf8')));
  return Buffer.concat(parts);
}

/**
 * Decodes a frame; unknown fields are skipped, as protobuf requires.
 *
 * @throws RollcallError `invalid-input` on truncated bytes, an unsupported wire type, or a missing
 *   required field.
 */
export function decodeLarkFrame(bytes: Uint8Array): LarkFrame {
  const reader = new Reader(bytes);
  const frame: Partial<LarkFrame> & { headers: LarkFrame['headers'] } = { headers: [] };
  while (!reader.done()) {
    const tag = Number(reader.varint());
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === VARINT) {
      const value = reader.varint();
      if (field === 1) frame.seqId = value;
      else if (field === 2) frame.logId = value;
      else if (field === 3) frame.service = Number(BigInt.asIntN(32, value));
      else if (field === 4) frame.method = Number(BigInt.asIntN(32, value));
    } else if (wireType === LENGTH_DELIMITED) {
      const value = reader.bytes();
      if (field === 5) frame.headers.push(decodeHeader(value));
      else if (field === 6) frame.payloadEncoding = utf8(value);
      else if (field === 7) frame.payloadType = utf8(value);
      else if (field === 8) frame.payload = value;
      else if (field === 9) frame.logIdNew = utf8(value);
    } else if (wireType === 1) {
      reader.skip(8);
    } else if (wireType === 5) {
      reader.skip(4);
    } else {
      throw new RollcallError('invalid-input', `a Lark frame uses protobuf wire type ${wireType}, which pbbp2.Frame never does`);
    }
  }
  const { seqId, logId, service, method } = frame;
  if (seqId === undefined || logId === undefined || service === undefined || method === undefined) {
    throw new RollcallError('invalid-input', 'a Lark frame lacks one of its required fields SeqID, LogID, service, method');
  }
  return { ...frame, seqId, logId, service, method };
}

/** The first value of header `key`, if any. */
export function frameHeader(frame: LarkFrame, key: string): string | undefined {
  return frame.headers.find((header) => header.key === key)?.value;
}

function decodeHeader(bytes: Uint8Array): { key: string; value: string } {
  const reader = new Reader(bytes);
  let key: string | undefined;
  let value: string | undefined;
  while (!reader.done()) {
    const tag = Number(reader.varint());
    if ((tag & 7) !== LENGTH_DELIMITED) {
      throw new RollcallError('invalid-input', 'a Lark frame header holds a field that is not a string');
    }
    const text = utf8(reader.bytes());
    if (tag >>> 3 === 1) key = text;
    else if (tag >>> 3 === 2) value = text;
  }
  if (key === undefined || value === undefined) throw new RollcallError('invalid-input', 'a Lark frame header lacks its key or value');
  return { key, value };
}

function nonNegative(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new RollcallError('internal', `a Lark frame's ${name} must be an integer from 0 to 2^31-1, got ${value}`);
  }
  return value;
}

function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0n);
  return Buffer.from(bytes);
}

function varintField(field: number, value: bigint): Buffer {
  return Buffer.concat([varint(BigInt((field << 3) | VARINT)), varint(value)]);
}

function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint(BigInt((field << 3) | LENGTH_DELIMITED)), varint(BigInt(value.length)), value]);
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

class Reader {
  #position = 0;
  readonly #data: Uint8Array;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  done(): boolean {
    return this.#position >= this.#data.length;
  }

  varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.#data[this.#position++];
      if (byte === undefined) throw new RollcallError('invalid-input', 'a Lark frame ends inside a varint');
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, value);
    }
    throw new RollcallError('invalid-input', 'a Lark frame holds a varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const length = Number(this.varint());
    this.skip(length);
    return this.#data.subarray(this.#position - length, this.#position);
  }

  skip(length: number): void {
    if (this.#position + length > this.#data.length) throw new RollcallError('invalid-input', 'a Lark frame ends inside a field');
    this.#position += length;
  }
}
