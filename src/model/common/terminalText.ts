/**
 * Text that came from a run (metric and param names and values, tags, script paths, build output) on its way
 * to a terminal or a log file. A script chooses those strings, so they may hold escape sequences that clear the
 * screen, retitle the window, or hide what follows them. Pure: no node, no vscode.
 */

/** C0 controls, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Run-provided text as it can be printed safely inside one line: every control character is shown as an escape
 * (`\x1b`, `\n`, `\u202e`), so what was there stays visible and nothing reaches the terminal as a command.
 */
export function showControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/**
 * ANSI/VT escape sequences: CSI (ESC [ … final byte, or the one-byte C1 CSI), OSC (ESC ] … BEL or ST), the other
 * string controls (DCS, SOS, PM, APC) up to ST, and two-character ESC sequences.
 */
const ESCAPE_SEQUENCE =
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c)|\u001b[\u0020-\u002f]*[\u0030-\u007e]/g;

/** Controls left after the sequences are gone, except tab and newline; a lone CR (progress redraws) goes too. */
const STRAY_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Multi-line output (a build log) as plain text: escape sequences removed, CRLF read as a line end, other
 * controls dropped. Tab and newline stay.
 */
export function stripTerminalEscapes(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/\r\n/g, '\n').replace(STRAY_CONTROLS, '');
}
