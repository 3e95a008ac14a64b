/**
 * Durations and memory sizes as a user writes them, and the same grammar as JSON Schema patterns, so an editor
 * validating with the exported schema accepts exactly the spellings the parser does.
 */

const MIB = 1024 * 1024;
/** Docker refuses a memory limit below 6 MiB; failing early names the key instead of a daemon error. */
export const MIN_MEMORY_BYTES = 6 * MIB;

/** Largest first: a duration lists its units in this order, each at most once. */
const DURATION_UNITS: Array<{ names: string[]; seconds: number }> = [
  { names: ['d', 'day', 'days'], seconds: 86400 },
  { names: ['h', 'hr', 'hrs', 'hour', 'hours'], seconds: 3600 },
  { names: ['m', 'min', 'mins', 'minute', 'minutes'], seconds: 60 },
  { names: ['s', 'sec', 'secs', 'second', 'seconds'], seconds: 1 },
];

/**
 * Seconds, from a number (taken as seconds) or a string like "90", "90s", "30m", "1h30m", "1.5h", "2h 15m"
 * (units d/h/m/s, largest first, each at most once). Undefined when not parseable; sign and zero are left to
 * the caller, which knows whether they make sense.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/y;
  let total = 0;
  let lastUnit = Infinity;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) return undefined;
    const unit = DURATION_UNITS.find(({ names }) => names.includes(match[2]))?.seconds;
    if (unit === undefined || unit >= lastUnit) return undefined;
    total += Number(match[1]) * unit;
    lastUnit = unit;
    index = part.lastIndex;
  }
  return index === 0 ? undefined : total;
}

const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1024, m: MIB, g: 1024 * MIB, t: 1024 * 1024 * MIB };

/**
 * Bytes, from a number or a string like "512m", "2g", "1.5GiB", "512 MB", "1024". Every suffix is binary
 * (MB = MiB), as in Docker's own `--memory`, so a value means what it would mean there. Fractions of a
 * byte are dropped. Undefined when not parseable or beyond exact integer range.
 */
export function parseMemory(value: unknown): number | undefined {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?$/i.exec(value.trim());
    if (!match) return undefined;
    bytes = Number(match[1]) * MEMORY_UNITS[(match[2] ?? '').toLowerCase()];
  } else {
    return undefined;
  }
  bytes = Math.floor(bytes);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

// JSON Schema patterns have no flags, so case-insensitivity is spelt out letter by letter.
const anyCase = (word: string) => [...word].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join('');
const NUMBER = String.raw`\d+(?:\.\d+)?`;

/** A string parseDuration accepts (zero included: "greater than 0" is the validator's, not the grammar's). */
export const DURATION_PATTERN = (() => {
  const parts = DURATION_UNITS.map(({ names }) => {
    // Longest first, so "hours" is not cut to "h" followed by garbage.
    const alternatives = [...names].sort((a, b) => b.length - a.length).map(anyCase).join('|');
    return String.raw`(?:${NUMBER}\s*(?:${alternatives})\s*)?`;
  });
  return String.raw`^\s*(?:${NUMBER}|(?=\d)${parts.join('')})\s*$`;
})();

/** A string parseMemory accepts (the 6 MiB minimum is the validator's). */
export const MEMORY_PATTERN = String.raw`^\s*${NUMBER}\s*(?:[kKmMgGtT](?:[iI]?[bB])?|[bB])?\s*$`;
