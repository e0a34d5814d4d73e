import CredentialsModule from '@alicloud/credentials';
import EcsModule from '@alicloud/ecs20140526';
import * as Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { RollcallError } from '../../config/errors.js';

export { Ecs };
// These packages are CommonJS compiled from TypeScript: under native ESM their class is the
// `default` of the module object, while vitest's interop hands over the class itself.
const EcsClientClass = cjsDefault(EcsModule);
const CredentialClass = cjsDefault(CredentialsModule);

function cjsDefault<T extends { default: unknown }>(module: T): T['default'] {
  return ((module as { default?: unknown }).default ?? module) as T['default'];
}
export type EcsClient = InstanceType<typeof EcsClientClass>;

export interface EcsClientOptions {
  regionId: string;
  /** `host:port` of an ECS API endpoint; plain HTTP when the host is a loopback address (the emulator). */
  endpoint?: string;
}

/**
 * The one place rollcall makes an ECS client. Credentials come from the default chain of
 * `@alicloud/credentials` (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, a profile, an instance RAM role),
 * never from flags. Nothing else imports the SDK's client class.
 */
/** The credentials package's Config class, wherever the module interop put it. */
function configClass(): typeof CredentialsModule.Config {
  return (CredentialsModule.Config ?? (CredentialsModule as unknown as { default: { Config: typeof CredentialsModule.Config } }).default.Config);
}

export function createEcsClient(options: EcsClientOptions, env: NodeJS.ProcessEnv = process.env): EcsClient {
  // An AccessKey pair in `env` is used as it is (what the chain would find first anyway); without
  // one, the rest of the chain: a profile, an instance RAM role, …
  const keyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const keySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  let credential: InstanceType<typeof CredentialClass>;
  try {
    credential = keyId && keySecret ? new CredentialClass(new (configClass())({ type: 'access_key', accessKeyId: keyId, accessKeySecret: keySecret })) : new CredentialClass();
  } catch (error) {
    throw new RollcallError('invalid-input', 'no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or a profile or RAM role', { cause: error });
  }
  const loopback = options.endpoint !== undefined && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(options.endpoint);
  const config = new $OpenApiUtil.Config({
    credential,
    regionId: options.regionId,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    protocol: loopback ? 'http' : 'https',
    readTimeout: 30_000,
    connectTimeout: 10_000,
  });
  return new EcsClientClass(config);
}
