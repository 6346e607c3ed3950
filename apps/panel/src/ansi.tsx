// Build and runtime logs carry ANSI colour codes: turned into spans with classes, never into HTML.
import type { ReactNode } from 'react';

// eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC
const SGR = /\x1b\[([0-9;]*)m/g;
// Other escape sequences (cursor moves, erase line) are dropped.
// eslint-disable-next-line no-control-regex -- ESC and BEL are what these sequences are made of
const OTHER_ESCAPES = /\x1b\[[0-9;?]*[A-LN-Za-ln-z]|\x1b[()][A-Za-z0-9]|\x1b\][^\x07]*\x07/g;

interface Style {
  fg?: number;
  bg?: number;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

function apply(style: Style, codes: number[]): Style {
  const s = { ...style };
  if (codes.length === 0) codes = [0];
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) {
      delete s.fg;
      delete s.bg;
      s.bold = s.dim = s.italic = s.underline = false;
    } else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 22) s.bold = s.dim = false;
    else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) delete s.fg;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) delete s.bg;
    else if (c === 38 || c === 48) {
      // 256-colour / true-colour: skip their arguments (mapped to the 16 basic colours when possible)
      if (codes[i + 1] === 5) {
        const n = codes[i + 2] ?? 0;
        if (n < 16) {
          if (c === 38) s.fg = n;
          else s.bg = n;
        }
        i += 2;
      } else if (codes[i + 1] === 2) i += 4;
    }
  }
  return s;
}

function className(s: Style): string {
  const cls: string[] = [];
  if (s.fg !== undefined) cls.push(`ansi-fg-${s.fg}`);
  if (s.bg !== undefined) cls.push(`ansi-bg-${s.bg}`);
  if (s.bold) cls.push('ansi-bold');
  if (s.dim) cls.push('ansi-dim');
  if (s.italic) cls.push('ansi-italic');
  if (s.underline) cls.push('ansi-underline');
  return cls.join(' ');
}

export function AnsiLine({ text }: { text: string }): ReactNode {
  const clean = text.replace(OTHER_ESCAPES, '');
  const parts: ReactNode[] = [];
  let style: Style = {};
  let last = 0;
  let key = 0;
  const push = (chunk: string) => {
    if (!chunk) return;
    const cls = className(style);
    parts.push(cls ? <span key={key++} className={cls}>{chunk}</span> : chunk);
  };
  for (const m of clean.matchAll(SGR)) {
    push(clean.slice(last, m.index));
    style = apply(style, (m[1] ?? '').split(';').filter(Boolean).map(Number));
    last = m.index + m[0].length;
  }
  push(clean.slice(last));
  return <>{parts}</>;
}
