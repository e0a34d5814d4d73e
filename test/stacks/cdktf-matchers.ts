import { getToHaveResourceWithProperties, returnMatcherToJest, type TerraformConstructor } from 'cdktf/lib/testing/matchers.js';
import { expect } from 'vitest';

/*
 * cdktf's matchers plug into Jest only (`Testing.setupJest`); vitest's `expect.extend` takes the
 * same {pass, message} shape, so the one rollcall uses is registered here from cdktf's own
 * assertion (`getToHaveResourceWithProperties`, which `Testing.toHaveResourceWithProperties` wraps).
 */

interface CdktfMatchers<R = unknown> {
  /** The synthesized JSON has a resource of this binding's type whose properties include these (nested objects compared partially). */
  toHaveResourceWithProperties(resourceType: TerraformConstructor, properties?: Record<string, unknown>): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Assertion<T = any> extends CdktfMatchers<T> {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AsymmetricMatchersContaining extends CdktfMatchers {}
}

const toHaveResourceWithProperties = getToHaveResourceWithProperties();

expect.extend({
  toHaveResourceWithProperties(received: string, resourceType: TerraformConstructor, properties: Record<string, unknown> = {}) {
    return returnMatcherToJest(toHaveResourceWithProperties(received, resourceType, properties));
  },
});
