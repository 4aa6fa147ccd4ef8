/** Longest a request-supplied value (path, module, user agent, message) is logged, stored or echoed. */
export const LOGGED_TEXT_MAX_CHARS = 200;

/**
 * `value` cut to `maxChars` with a marker saying how much was left off, and with U+0000 (which
 * PostgreSQL text cannot hold) replaced, so that whatever a client sends costs a log line, a mirror
 * line and a database row of bounded size and can never fail the write.
 */
export function boundedText(value: string, maxChars = LOGGED_TEXT_MAX_CHARS): string {
  const text =
    value.length > maxChars
      ? `${value.slice(0, maxChars)}…[+${value.length - maxChars} chars]`
      : value;
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
}
