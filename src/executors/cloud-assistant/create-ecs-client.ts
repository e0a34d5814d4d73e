import * as CredentialsNamespace from '@alicloud/credentials';
import type CredentialsModule from '@alicloud/credentials';
import * as Ecs from '@alicloud/ecs20140526';
import type EcsModule from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { RollcallError } from '../../config/errors.js';

export { Ecs };
// These packages are CommonJS compiled from TypeScript. Under native ESM a namespace import's
// `default` is their module.exports (whose `default` is the class); vitest's interop gives the
// exports themselves. `moduleExports` finds module.exports either way.
function moduleExports<T>(namespace: T): T {
  const fallback = (namespace as { default?: unknown }).default;
  return (typeof fallback === 'object' && fallback !== null ? fallback : namespace) as T;
}
type EcsClientConstructor = typeof EcsModule.default;
type CredentialConstructor = typeof CredentialsModule.default;
const EcsClientClass = (moduleExports(Ecs) as unknown as { default: EcsClientConstructor }).default;
const credentials = moduleExports(CredentialsNamespace) as unknown as { default: CredentialConstructor; Config: typeof CredentialsNamespace.Config };
export type EcsClient = InstanceType<EcsClientConstructor>;

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
export function createEcsClient(options: EcsClientOptions, env: NodeJS.ProcessEnv = process.env): EcsClient {
  // An AccessKey pair in `env` is used as it is (what the chain would find first anyway); without
  // one, the rest of the chain: a profile, an instance RAM role, …
  const keyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const keySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  let credential: InstanceType<CredentialConstructor>;
  try {
    credential = keyId && keySecret ? new credentials.default(new credentials.Config({ type: 'access_key', accessKeyId: keyId, accessKeySecret: keySecret })) : new credentials.default();
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
