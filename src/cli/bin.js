#!/usr/bin/env node
// The `rollcall` command. tsx compiles the TypeScript sources on the fly, so a checkout works
// right after `npm ci`, with no build step to remember.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
