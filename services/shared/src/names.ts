// What counts as a valid name, shared by the translator (which answers 400) and the
// starter (which refuses before any workflow starts), so both reject the same inputs.

/** Longest accepted name, in Unicode code points (not UTF-16 units or bytes). */
export const MAX_NAME_LENGTH = 100;

// C0/C1 controls, DEL, and the Unicode line/paragraph separators: they break logs and headers.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Returns an error message for an invalid name, or undefined when it is fine. */
export function validateName(name: unknown): string | undefined {
  if (name === undefined || name === null) return 'name is required';
  if (typeof name !== 'string') return 'name must be a string';
  if (name.length === 0) return 'name must not be empty';
  if (name.trim().length === 0) return 'name must not be only whitespace';
  if (!name.isWellFormed()) return 'name must be valid Unicode (lone surrogate found)';
  const length = [...name].length;
  if (length > MAX_NAME_LENGTH) return `name is too long: ${length} characters, at most ${MAX_NAME_LENGTH} allowed`;
  if (CONTROL.test(name)) return 'name must not contain control characters';
  return undefined;
}
