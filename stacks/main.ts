// The cdktf app (cdktf.json's `app`, `npm run synth`): writes cdktf.out/stacks/rollcall/cdk.tf.json,
// plain Terraform JSON. Its configuration: ROLLCALL_STACK_CONFIG (a JSON file) or the environment
// (stack-config.ts, readStackConfig); with neither, the example file, whose ingress is the loopback.
import { readFileSync } from 'node:fs';
import { App } from 'cdktf';
import { RollcallError } from '../src/config/errors.js';
import { RollcallStack } from './rollcall-stack.js';
import { parseStackConfig, readStackConfig } from './stack-config.js';

const EXAMPLE = new URL('./rollcall-stack.example.json', import.meta.url);

try {
  let config = readStackConfig();
  if (config === undefined) {
    process.stderr.write('rollcall stack: neither ROLLCALL_STACK_CONFIG nor ROLLCALL_PUBLIC_URL is set: synthesizing stacks/rollcall-stack.example.json (ingress on 127.0.0.1, for the emulator only)\n');
    config = parseStackConfig(JSON.parse(readFileSync(EXAMPLE, 'utf8')), 'stacks/rollcall-stack.example.json');
  }
  const app = new App();
  new RollcallStack(app, 'rollcall', config);
  app.synth();
} catch (error) {
  if (!(error instanceof RollcallError)) throw error;
  process.stderr.write(`rollcall stack: ${error.message}\n`);
  process.exitCode = 2;
}
