/** Escapes LIKE/ILIKE wildcards (`%`, `_`) and the escape character, for `... like ? escape '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
