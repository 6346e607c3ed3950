// What git left in the repository's own files after a fetch and a checkout, read without another
// git process: the object FETCH_HEAD names (the fetch's first line) and the commit a detached HEAD
// names. Pure parsers; clone.ts reads the files and refuses anything that does not parse.

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The object id on FETCH_HEAD's first line (`<id>\t[not-for-merge]\t<description>`), if well formed. */
export function fetchHeadObject(text: string): string | undefined {
  const first = text.split('\n', 1)[0] ?? '';
  const id = first.split('\t', 1)[0] ?? '';
  return OBJECT_ID.test(id) ? id : undefined;
}

/** The commit a detached HEAD names (`<id>\n`); undefined for a symbolic ref or anything else. */
export function detachedHeadCommit(text: string): string | undefined {
  const id = text.endsWith('\n') ? text.slice(0, -1) : text;
  return OBJECT_ID.test(id) ? id : undefined;
}
