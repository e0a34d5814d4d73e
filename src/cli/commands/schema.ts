import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { desiredStateJsonSchemas, toJsonSchema } from '../../desired/json-schema.js';
import { ObservedState } from '../../plan/observed-state.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/** Every JSON Schema rollcall publishes, by file name. */
export function allJsonSchemas(): Record<string, object> {
  return {
    ...desiredStateJsonSchemas(),
    'observed.schema.json': toJsonSchema(ObservedState, 'rollcall observed-state snapshot (rollcall inventory --json, plan --observed)'),
  };
}

/** `rollcall schema`: the schemas as one JSON document on stdout, or one file each under --out. */
export async function schemaCommand(options: { out?: string }, io: CliIo): Promise<number> {
  const schemas = allJsonSchemas();
  if (!options.out) {
    io.stdout.write(`${JSON.stringify(schemas, null, 2)}\n`);
    return EXIT.ok;
  }
  const out = path.resolve(io.cwd, options.out);
  await mkdir(out, { recursive: true });
  for (const [name, schema] of Object.entries(schemas)) {
    await writeFile(path.join(out, name), `${JSON.stringify(schema, null, 2)}\n`);
  }
  io.stderr.write(`wrote ${Object.keys(schemas).length} schemas to ${path.relative(io.cwd, out) || '.'}\n`);
  return EXIT.ok;
}
