import { z } from 'zod';
import { ApprovalsFile, FleetFile, RoleFile, UserFile } from './schema.js';

/**
 * JSON Schemas of the desired-state files, generated from the zod schemas so they never disagree.
 * Editors use them to complete and check the YAML (yaml-language-server reads a
 * `# yaml-language-server: $schema=…` line or a glob mapping). They describe shapes and formats; the
 * cross-file checks are `rollcall validate`'s.
 */
export function desiredStateJsonSchemas(): Record<string, object> {
  const schemas: [string, z.ZodType, string][] = [
    ['fleet.schema.json', FleetFile, 'rollcall fleet.yaml: hostgroups and policy'],
    ['role.schema.json', RoleFile, 'rollcall roles/<role>.yaml: hostgroups, groups and sudo rules of a role'],
    ['user.schema.json', UserFile, 'rollcall users/<empId>.yaml: one person and the roles they hold'],
    ['approvals.schema.json', ApprovalsFile, 'rollcall approvals.yaml: approval flows and the channels results go to'],
  ];
  return Object.fromEntries(schemas.map(([name, schema, title]) => [name, toJsonSchema(schema, title)]));
}

export function toJsonSchema(schema: z.ZodType, title: string): object {
  // io: 'input' describes what a person writes: fields with defaults are optional.
  const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...generated, title };
}
