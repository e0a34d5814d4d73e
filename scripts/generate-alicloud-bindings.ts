/**
 * Generates the typed alicloud bindings the stack imports (`stacks/.gen/providers/alicloud/`),
 * offline, from the provider schema committed beside the stack. No prebuilt alicloud bindings
 * exist on npm, and `cdktf get` needs terraform and the registry; this runs the same generator
 * `cdktf get` runs (`@cdktf/provider-generator`'s `TerraformProviderGenerator`) on the schema file.
 *
 *   npm run bindings                       regenerate stacks/.gen (commit the result)
 *   npm run bindings -- --check            exit 1 when stacks/.gen differs from what this generates
 *   npm run bindings -- --schema FILE      another schema (`terraform providers schema -json`)
 *   npm run bindings -- --out DIR          write (or, with --check, compare) DIR instead
 *
 * The provider and the output folder come from cdktf.json (`terraformProviders`,
 * `codeMakerOutput`), so `cdktf get` on a connected machine writes the same modules to the same
 * place. The one difference: each generated `.ts` file starts with `// @ts-nocheck`, because the
 * generated classes lack the `override` keywords rollcall's `noImplicitOverride` asks for. The
 * stack's own use of the bindings is still type-checked (the declarations stay typed).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');
const DEFAULT_SCHEMA = 'stacks/alicloud-provider-schema.json';
/** Prepended to every generated TypeScript file; see the header comment for why. */
export const TS_HEADER = '// @ts-nocheck: generated code without `override` keywords (noImplicitOverride); regenerate with `npm run bindings`\n';

// Importing @cdktf/commons (through the generator) runs `terraform version` and reports errors to
// HashiCorp's checkpoint service. Offline neither is wanted: no telemetry, and a binary name that
// cannot exist so nothing is started (its failure is caught by commons and ignored).
process.env['CHECKPOINT_DISABLE'] ??= '1';
process.env['TERRAFORM_BINARY_NAME'] ??= 'rollcall-bindings-need-no-terraform';

interface CodeMaker {
  openFile(file: string): void;
  line(text?: string): void;
  closeFile(file: string): void;
  save(rootDir: string): Promise<string[]>;
}
interface ProviderConstraint {
  fqn: string;
  version?: string;
  name: string;
}

// The generator's root module pulls jsii-pacmak (for other languages): load its TypeScript
// generator by its own path, and its dependencies (codemaker, @cdktf/commons) through it.
const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));
const generatorPackage = requireFromRoot.resolve('@cdktf/provider-generator/package.json');
const requireFromGenerator = createRequire(generatorPackage);
const { TerraformProviderGenerator } = requireFromGenerator('./lib/get/generator/provider-generator.js') as {
  TerraformProviderGenerator: new (code: CodeMaker, schema: unknown) => { generate(target: unknown): void; versions: Record<string, string | undefined> };
};
const { CodeMaker } = requireFromGenerator('codemaker') as { CodeMaker: new () => CodeMaker & { indentation: number } };
const commons = requireFromGenerator('@cdktf/commons') as {
  TerraformProviderConstraint: new (spec: string | { name: string; source: string; version?: string }) => ProviderConstraint;
  ConstructsMakerTarget: { from(constraint: ProviderConstraint, language: string): unknown };
  Language: { TYPESCRIPT: string };
  DISPLAY_VERSION: string;
};

export interface GenerateOptions {
  /** The repository root (cdktf.json is read from it). */
  root?: string;
  /** The provider schema (`terraform providers schema -json`). Default {@link DEFAULT_SCHEMA}. */
  schemaFile?: string;
}

/** What cdktf.json says about the bindings. */
export function readCdktfConfig(root: string = ROOT): { provider: string | { name: string; source: string; version?: string }; codeMakerOutput: string } {
  const config = JSON.parse(readFileSync(path.join(root, 'cdktf.json'), 'utf8')) as { terraformProviders?: unknown[]; codeMakerOutput?: string };
  const providers = config.terraformProviders ?? [];
  if (providers.length !== 1) throw new Error(`cdktf.json must name exactly one provider in terraformProviders (aliyun/alicloud@<version>), not ${providers.length}`);
  if (!config.codeMakerOutput) throw new Error('cdktf.json has no codeMakerOutput: set it to the folder the bindings live in (stacks/.gen)');
  return { provider: providers[0] as string, codeMakerOutput: config.codeMakerOutput };
}

/**
 * Generates the bindings into `outdir` (emptied first): `providers/<name>/…`, plus the
 * `versions.json` and `constraints.json` that `cdktf get` writes (the latter lets `cdktf get` see
 * the bindings are current). Returns the files written, relative to `outdir`.
 */
export async function generateBindings(outdir: string, options: GenerateOptions = {}): Promise<string[]> {
  const root = options.root ?? ROOT;
  const { provider } = readCdktfConfig(root);
  const schemaFile = path.resolve(root, options.schemaFile ?? DEFAULT_SCHEMA);
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { provider_versions?: Record<string, string> };
  const constraint = new commons.TerraformProviderConstraint(provider);
  const schemaVersion = Object.entries(schema.provider_versions ?? {}).find(([fqpn]) => fqpn.endsWith(`/${constraint.fqn}`))?.[1];
  if (constraint.version !== undefined && schemaVersion !== constraint.version) {
    throw new Error(`${path.relative(root, schemaFile)} is the schema of ${constraint.fqn} ${schemaVersion ?? '(none)'}, but cdktf.json asks for ${constraint.version}: make them the same`);
  }

  const code = new CodeMaker();
  const generator = new TerraformProviderGenerator(code, schema);
  generator.generate(commons.ConstructsMakerTarget.from(constraint, commons.Language.TYPESCRIPT));
  // The two bookkeeping files of `cdktf get` (constructs-maker), in its format.
  code.openFile('versions.json');
  code.line(JSON.stringify(generator.versions, null, 2));
  code.closeFile('versions.json');
  code.openFile('constraints.json');
  code.line(JSON.stringify({ cdktf: commons.DISPLAY_VERSION, providers: { [constraint.fqn]: constraint.version } }, null, 2));
  code.closeFile('constraints.json');

  const staging = mkdtempSync(path.join(tmpdir(), 'rollcall-bindings-'));
  try {
    await code.save(staging);
    const files = listFiles(staging);
    for (const file of files.filter((name) => name.endsWith('.ts'))) {
      const full = path.join(staging, file);
      writeFileSync(full, TS_HEADER + readFileSync(full, 'utf8'));
    }
    rmSync(outdir, { recursive: true, force: true });
    mkdirSync(outdir, { recursive: true });
    cpSync(staging, outdir, { recursive: true });
    return files;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The files under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative))) {
      const child = path.join(relative, entry);
      if (statSync(path.join(dir, child)).isDirectory()) walk(child);
      else found.push(child.split(path.sep).join('/'));
    }
  };
  walk('');
  return found.sort();
}

/** Files that differ between two folders (missing on either side, or other content). */
export function compareFolders(expected: string, actual: string): string[] {
  const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const left = new Set(listFiles(expected));
  const right = new Set(safeList(actual));
  const differing: string[] = [];
  for (const file of new Set([...left, ...right])) {
    if (!left.has(file)) differing.push(`${file} (not generated: remove it)`);
    else if (!right.has(file)) differing.push(`${file} (missing)`);
    else if (digest(path.join(expected, file)) !== digest(path.join(actual, file))) differing.push(`${file} (differs)`);
  }
  return differing.sort();
}

function safeList(dir: string): string[] {
  try {
    return listFiles(dir);
  } catch {
    return [];
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { check: { type: 'boolean' }, schema: { type: 'string' }, out: { type: 'string' } } });
  const { codeMakerOutput } = readCdktfConfig();
  const target = path.resolve(ROOT, values.out ?? codeMakerOutput);
  const options: GenerateOptions = values.schema ? { schemaFile: path.resolve(values.schema) } : {};
  if (values.check) {
    const fresh = mkdtempSync(path.join(tmpdir(), 'rollcall-bindings-check-'));
    try {
      await generateBindings(fresh, options);
      const differing = compareFolders(fresh, target);
      if (differing.length === 0) {
        process.stdout.write(`${path.relative(ROOT, target) || target} is what the generator makes from the schema\n`);
        return 0;
      }
      process.stderr.write(`${path.relative(ROOT, target)} differs from what the generator makes (run npm run bindings and commit):\n${differing.map((file) => `  ${file}\n`).join('')}`);
      return 1;
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }
  const files = await generateBindings(target, options);
  process.stdout.write(`wrote ${files.length} files to ${path.relative(ROOT, target) || target}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
