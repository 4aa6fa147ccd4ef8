import { boundedText, LOGGED_TEXT_MAX_CHARS } from './bounded-text.js';

describe('boundedText', () => {
  it('keeps short text as it is', () => {
    expect(boundedText('/core/update')).toBe('/core/update');
  });

  it('cuts long text to the bound and says how much was left off', () => {
    const text = boundedText(`/${'a'.repeat(16_383)}`);
    expect(text).toBe(`/${'a'.repeat(LOGGED_TEXT_MAX_CHARS - 1)}…[+16184 chars]`);
  });

  it('replaces U+0000, which PostgreSQL text cannot store', () => {
    expect(boundedText('a\u0000b')).toBe('a\ufffdb');
  });
});
