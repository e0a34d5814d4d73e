/*
 * Walks a synthesized Terraform JSON document against a provider schema (`terraform providers
 * schema -json`): every resource, data source and provider block must exist in the schema, every
 * attribute and nested block must exist with a value of its type, required ones must be there,
 * and computed-only attributes must not be set. What `terraform validate` would say about names
 * and types, without terraform or the network.
 */

type AttributeType = string | [string, AttributeType] | ['object', Record<string, AttributeType>];

interface SchemaAttribute {
  type: AttributeType;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
}
interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, { nesting_mode: 'single' | 'list' | 'set' | 'map' | 'group'; block: SchemaBlock; min_items?: number; max_items?: number }>;
}
export interface ProviderSchemaFile {
  provider_schemas: Record<string, { provider: { block: SchemaBlock }; resource_schemas?: Record<string, { block: SchemaBlock }>; data_source_schemas?: Record<string, { block: SchemaBlock }> }>;
}

/** Terraform's meta-arguments, allowed on every resource and data source (and `//`, cdktf's metadata). */
const META_ARGUMENTS = new Set(['//', 'depends_on', 'count', 'for_each', 'provider', 'lifecycle', 'provisioner', 'connection']);
/** A string holding a Terraform expression: its type is only known at plan time. */
const EXPRESSION = /\$\{/;

/** Every problem of the document, each as `<address>.<attribute path>: what is wrong`. */
export function checkAgainstSchema(document: Record<string, unknown>, schemaFile: ProviderSchemaFile, providerName = 'alicloud'): string[] {
  const problems: string[] = [];
  const provider = Object.entries(schemaFile.provider_schemas).find(([fqpn]) => fqpn.endsWith(`/${providerName}`))?.[1];
  if (!provider) return [`the schema has no provider ${providerName}`];

  for (const [kind, schemas, prefix] of [
    ['resource', provider.resource_schemas ?? {}, ''],
    ['data', provider.data_source_schemas ?? {}, 'data.'],
  ] as const) {
    for (const [type, instances] of Object.entries(record(document[kind]) ?? {})) {
      const schema = schemas[type];
      for (const [name, body] of Object.entries(record(instances) ?? {})) {
        const address = `${prefix}${type}.${name}`;
        if (!schema) problems.push(`${address}: ${type} is not a ${kind === 'data' ? 'data source' : 'resource'} of the provider schema`);
        else checkBlock(body, schema.block, address, problems, true);
      }
    }
  }
  const providerBlocks = record(document['provider'])?.[providerName];
  for (const [index, body] of (Array.isArray(providerBlocks) ? providerBlocks : providerBlocks === undefined ? [] : [providerBlocks]).entries()) {
    checkBlock(body, provider.provider.block, `provider.${providerName}[${index}]`, problems, true);
  }
  return problems;
}

function checkBlock(body: unknown, schema: SchemaBlock, where: string, problems: string[], topLevel = false): void {
  const values = record(body);
  if (!values) {
    problems.push(`${where}: must be an object (a block), not ${describe(body)}`);
    return;
  }
  const attributes = schema.attributes ?? {};
  const blocks = schema.block_types ?? {};
  for (const [key, value] of Object.entries(values)) {
    if (topLevel && META_ARGUMENTS.has(key)) continue;
    const attribute = attributes[key];
    const block = blocks[key];
    if (attribute) {
      if (attribute.computed && !attribute.optional && !attribute.required) problems.push(`${where}.${key}: is computed by the provider and cannot be set`);
      else checkValue(value, attribute.type, `${where}.${key}`, problems);
    } else if (block) {
      // cdktf writes a block that holds at most one item as an object, Terraform JSON takes both.
      const items = block.nesting_mode === 'single' || block.nesting_mode === 'group' ? [value] : Array.isArray(value) ? value : [value];
      if (block.nesting_mode === 'map') {
        for (const [label, item] of Object.entries(record(value) ?? {})) checkBlock(item, block.block, `${where}.${key}.${label}`, problems);
        continue;
      }
      if (block.max_items !== undefined && items.length > block.max_items) problems.push(`${where}.${key}: at most ${block.max_items} block(s), not ${items.length}`);
      if (block.min_items !== undefined && items.length < block.min_items) problems.push(`${where}.${key}: at least ${block.min_items} block(s), not ${items.length}`);
      items.forEach((item, index) => checkBlock(item, block.block, items.length > 1 || Array.isArray(value) ? `${where}.${key}[${index}]` : `${where}.${key}`, problems));
    } else {
      problems.push(`${where}.${key}: no such attribute or block in the schema`);
    }
  }
  for (const [key, attribute] of Object.entries(attributes)) {
    if (attribute.required && !(key in values)) problems.push(`${where}.${key}: is required`);
  }
  for (const [key, block] of Object.entries(blocks)) {
    if ((block.min_items ?? 0) > 0 && !(key in values)) problems.push(`${where}.${key}: at least ${block.min_items} block(s) required`);
  }
}

function checkValue(value: unknown, type: AttributeType, where: string, problems: string[]): void {
  if (typeof value === 'string' && EXPRESSION.test(value.replaceAll('$${', ''))) return;
  if (typeof type === 'string') {
    const ok = type === 'string' ? typeof value === 'string' : type === 'number' ? typeof value === 'number' : type === 'bool' ? typeof value === 'boolean' : type === 'dynamic';
    if (!ok) problems.push(`${where}: must be a ${type}, not ${describe(value)}`);
    return;
  }
  const [kind, inner] = type;
  if (kind === 'list' || kind === 'set') {
    if (!Array.isArray(value)) problems.push(`${where}: must be a ${kind} (a JSON array), not ${describe(value)}`);
    else value.forEach((item, index) => checkValue(item, inner as AttributeType, `${where}[${index}]`, problems));
  } else if (kind === 'map') {
    const entries = record(value);
    if (!entries) problems.push(`${where}: must be a map (a JSON object), not ${describe(value)}`);
    else for (const [key, item] of Object.entries(entries)) checkValue(item, inner as AttributeType, `${where}.${key}`, problems);
  } else if (kind === 'object') {
    const entries = record(value);
    if (!entries) problems.push(`${where}: must be an object, not ${describe(value)}`);
    else for (const [key, item] of Object.entries(entries)) {
      const fieldType = (inner as Record<string, AttributeType>)[key];
      if (fieldType === undefined) problems.push(`${where}.${key}: no such field in the object type`);
      else checkValue(item, fieldType, `${where}.${key}`, problems);
    }
  } else {
    problems.push(`${where}: the schema's type ${JSON.stringify(type)} is not one this check knows`);
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value} (${JSON.stringify(value)?.slice(0, 40)})`;
}
