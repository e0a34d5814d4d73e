import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * What every emulator does the same way: listen on the loopback, and hand out AccessKeys shaped
 * like Alibaba Cloud's.
 */

/** An AccessKey pair an emulator accepts. */
export interface AccessKeyPair {
  accessKeyId: string;
  accessKeySecret: string;
}

/** Listens on 127.0.0.1:`port` (0 picks a free one) and resolves with the port. */
export function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** An AccessKey pair shaped like Alibaba Cloud's: `LTAI` and 20 characters, a 30-character secret. */
export function generateAccessKey(): AccessKeyPair {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const random = (length: number) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
  return { accessKeyId: `LTAI${random(20)}`, accessKeySecret: random(30) };
}
