/**
 * Markdown-escapes text (and theme-icon syntax), so it shows as typed and never becomes a link, image or HTML.
 * `atLineStart`: the text begins a line, where `#`, `-`, `+` and `1.` would start a heading or a list.
 */
export function escapeMarkdown(text: string, atLineStart = false): string {
  const inline = text.replace(/\r?\n/g, ' ').replace(/[\\`*_{}[\]()!|<>~$&]/g, '\\$&');
  return atLineStart ? inline.replace(/^(\s*)([#+-]|\d+\.)/, '$1\\$2') : inline;
}
