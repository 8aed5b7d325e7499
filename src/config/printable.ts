// Showing user input in a message without letting it steer the terminal or the reader: a
// control character could move the cursor or end the line, a format character (U+202E) could
// reverse the text around it, so both are shown as escapes.

// Cc controls, Cf format characters (U+200B, U+202E, U+2066–2069, ...), line and paragraph
// separators, lone surrogates, private-use and unassigned code points, and every space but
// U+0020 (a no-break space reads as a space but is not one).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]|[^\S ]/u;
const NON_PRINTABLE_ALL = new RegExp(NON_PRINTABLE.source, 'gu');

/** True when the text has a character that escapePrintable would escape. */
export function hasNonPrintable(s: string): boolean {
  return NON_PRINTABLE.test(s);
}

/**
 * The text with every non-printable character as \xNN (below U+0100) or \u{XXXX}. A backslash
 * is left alone, so escaping twice changes nothing and messages stay readable.
 */
export function escapePrintable(s: string): string {
  return s.replace(NON_PRINTABLE_ALL, (c) => {
    const cp = c.codePointAt(0)!;
    return cp < 0x100 ? `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}` : `\\u{${cp.toString(16).toUpperCase()}}`;
  });
}
