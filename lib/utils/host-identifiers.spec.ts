import { explainIdempotencyKey, explainOwnerId } from './host-identifiers.js';

describe('host identifiers', () => {
  describe.each([
    ['ownerId', explainOwnerId],
    ['idempotencyKey', explainIdempotencyKey],
  ] as const)('%s', (name, explain) => {
    it.each(['a', 'acct_42', 'o:k|z/1 2', 'é😀', '\u00a0non-breaking', '\u00a0', '\u0020', '~', 'x'.repeat(191)])('accepts %p', (value) => {
      expect(explain(value)).toBeNull();
    });

    it.each([
      ['', `${name} must be a string of 1-191 characters, got 0 characters`],
      ['x'.repeat(192), `${name} must be a string of 1-191 characters, got 192 characters`],
      [42, `${name} must be a string of 1-191 characters, got number`],
      [null, `${name} must be a string of 1-191 characters, got null`],
      [undefined, `${name} must be a string of 1-191 characters, got undefined`],
    ])('refuses %p', (value, message) => {
      expect(explain(value)).toBe(message);
    });

    it.each([
      ['NUL', 'o\u0000k', 'U+0000 at index 1'],
      ['a tab', '\tk', 'U+0009 at index 0'],
      ['a line feed', 'k\n', 'U+000A at index 1'],
      ['U+001F', 'k\u001f', 'U+001F at index 1'],
      ['DEL', 'k\u007f', 'U+007F at index 1'],
      ['NEL (C1)', 'k\u0085', 'U+0085 at index 1'],
      ['U+009F', 'ab\u009f', 'U+009F at index 2'],
    ])('refuses %s, naming it', (_, value, where) => {
      expect(explain(value)).toBe(`${name} must not contain control characters (U+0000-U+001F, U+007F-U+009F); found ${where}`);
    });
  });
});
