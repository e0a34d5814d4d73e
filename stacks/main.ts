// The cdktf app (cdktf.json runs it): `npx cdktf synth` writes the Terraform JSON to cdktf.out/.
import { App } from 'cdktf';
import { RollcallStack } from './rollcall-stack.js';

const app = new App();
new RollcallStack(app, 'rollcall', { region: process.env.ROLLCALL_REGION ?? 'cn-hangzhou' });
app.synth();
