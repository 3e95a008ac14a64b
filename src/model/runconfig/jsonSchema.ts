/**
 * The key table as a JSON Schema (draft-07), for editors that validate YAML against one (the YAML extension
 * reads it through package.json's `yamlValidation`). It mirrors the parser's grammar; the few checks a schema
 * cannot state (memory at least 6m when written with a suffix, timeout "0s") are left to the parser, so the
 * schema may accept what a run refuses, never the reverse.
 */
import { parse } from 'yaml';
import { JsonSchema, RunConfigKey, TOP_LEVEL_KEYS } from './schema';

/** Where the generated file is committed, relative to the repository root. */
export const RUNCONFIG_SCHEMA_FILE = 'schemas/runconfig.schema.json';

export function runConfigJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'ML Workbench run configuration',
    description: 'A named run configuration, .mlw/runconfigs/<name>.yaml.',
    ...mapping(TOP_LEVEL_KEYS),
  };
}

/** The file's text: stable formatting, so the committed copy can be compared byte for byte. */
export function runConfigJsonSchemaText(): string {
  return JSON.stringify(runConfigJsonSchema(), null, 2) + '\n';
}

function mapping(keys: readonly RunConfigKey[]): JsonSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(keys.map((k) => [k.name, property(k)])),
    additionalProperties: false,
  };
}

function property(k: RunConfigKey): JsonSchema {
  const value = k.children ? { ...k.schema, ...mapping(k.children) } : k.schema;
  return {
    description: k.summary,
    markdownDescription: k.documentation,
    ...orNull(value),
    ...(k.default === undefined ? {} : { default: k.default }),
    examples: [parse(k.example)],
  };
}

/** A key written with nothing after it means "not set", so every key also accepts null. */
function orNull(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.enum)) return { ...schema, enum: [...schema.enum, null] };
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...schema.anyOf, { type: 'null' }] };
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}
