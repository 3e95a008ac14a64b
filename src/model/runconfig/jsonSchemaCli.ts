/**
 * `npm run schemas`: writes the run configuration JSON Schema generated from the key table into the repository,
 * so the committed file (which the tests compare against the table) is regenerated rather than hand-edited.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUNCONFIG_SCHEMA_FILE, runConfigJsonSchemaText } from './jsonSchema';

// npm runs scripts from the package root; an explicit root is for running it from elsewhere.
const root = path.resolve(process.argv[2] ?? '.');
const file = path.join(root, RUNCONFIG_SCHEMA_FILE);
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, runConfigJsonSchemaText());
console.log(`wrote ${path.relative(process.cwd(), file) || file}`);
