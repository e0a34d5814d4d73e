import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';

export interface RollcallStackConfig {
  /** The Alibaba Cloud region the fleet is in (fleet.yaml's `region`). */
  region: string;
}

/**
 * The cloud plumbing rollcall needs: the EventBridge bus and rules, the Cloud Assistant command
 * that runs the agent, and the RAM role and policy. This first version declares only its region
 * (as an output), fixing the app's entry point and configuration so that `cdktf synth` runs from
 * a checkout; the resources come with the stack's own change.
 */
export class RollcallStack extends TerraformStack {
  readonly region: string;

  constructor(scope: Construct, id: string, config: RollcallStackConfig) {
    super(scope, id);
    this.region = config.region;
    new TerraformOutput(this, 'region', { value: config.region, description: 'The region rollcall manages' });
  }
}
