/** Small readings of YAML nodes shared by the validators: emptiness, a description for messages, scalar text. */
import { Node, Scalar, isMap, isScalar, isSeq } from 'yaml';

export type YamlValue = Node | null | undefined;

/** A key written with nothing after it (`image:`) means "not set", like leaving the line out. */
export function isEmpty(node: YamlValue): node is null | undefined | Scalar<null> {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** What the user wrote, for "not X" in messages. */
export function describe(node: YamlValue): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return show(node.value);
  return 'that';
}

export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Numbers and booleans become their source text (`1.0` stays "1.0", not "1"): the script sees what the user wrote. */
export function scalarText(node: YamlValue): string | undefined {
  if (!isScalar(node)) return undefined;
  const value = node.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return node.type === 'PLAIN' && node.source ? node.source : String(value);
  }
  return undefined;
}
