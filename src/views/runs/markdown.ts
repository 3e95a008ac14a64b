/** Markdown-escapes text (and theme-icon syntax), so it shows as typed and never becomes a link, image or HTML. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*_{}[\]()!|<>~$&]/g, '\\$&')
    // Block syntax counts only at the start of a line: a heading, a list item, a numbered item.
    .replace(/^(\s*)([#+-]|\d+\.)/, '$1\\$2');
}

