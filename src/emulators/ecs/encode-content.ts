/**
 * Content in a reply (`Output`, `CommandContent`) by the request's `ContentEncoding`: Base64 (the
 * default of the Describe actions, and what any other value means) or PlainText (case-insensitive).
 */
export function encodeContent(content: Buffer | string, contentEncoding: string | undefined): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return contentEncoding?.toLowerCase() === 'plaintext' ? bytes.toString('utf8') : bytes.toString('base64');
}
