// Procfile: `process: command` lines; only `web` matters here (it overrides the start command).

/** The `web:` command, or undefined when there is none. Comments and blank lines are ignored. */
export function procfileWeb(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*web\s*:\s*(.*?)\s*$/.exec(raw);
    if (m?.[1]) return m[1];
  }
  return undefined;
}
