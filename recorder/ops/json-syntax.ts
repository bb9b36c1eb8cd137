/**
 * Where a JSON text (RFC 8259) first goes wrong, and why, in words an operator editing a config
 * file understands. Only run after JSON.parse has failed: V8 gives no position for some errors
 * (a trailing comma is "Unexpected token ']'"), and its wording changes between Node versions.
 */
export interface JsonSyntaxError {
  /** Offset in the text (UTF-16 units) of the offending character, or the text length at end of input. */
  pos: number;
  message: string;
  line: number;
  column: number;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];
/** Deeper than this is not a config file; stops a recursion overflow on hostile input. */
const MAX_DEPTH = 256;

class Stop extends Error {
  constructor(
    readonly pos: number,
    readonly why: string,
  ) {
    super(why);
  }
}

export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const show = (at: number): string => (at >= text.length ? 'end of file' : JSON.stringify(text[at]));
  const stop: (why: string, at?: number) => never = (why, at = i) => {
    throw new Stop(at, why);
  };
  const skipWs = (): void => {
    while (i < text.length && WS.has(text[i] ?? '')) i++;
  };

  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) stop('unterminated string');
      const ch = text[i] ?? '';
      if (ch === '"') {
        i++;
        return;
      }
      if (ch < ' ') stop(ch === '\n' ? 'line break inside a string (write \\n)' : 'control character inside a string');
      if (ch === '\\') {
        const e = text[i + 1] ?? '';
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) stop('bad \\u escape (needs 4 hex digits)');
          i += 6;
          continue;
        }
        if (!ESCAPES.has(e)) stop(`bad escape \\${e} in a string`);
        i += 2;
        continue;
      }
      i++;
    }
  };

  const value = (depth: number): void => {
    skipWs();
    if (depth > MAX_DEPTH) stop('nested too deeply');
    const ch = text[i];
    if (ch === undefined) stop('unexpected end of file');
    if (ch === '{') return object(depth);
    if (ch === '[') return array(depth);
    if (ch === '"') return string();
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m || m[0] === '-') stop('bad number');
      i += m[0].length;
      // A leading zero ("007") matches "0" then leaves digits behind: say so here, not later.
      if (/[0-9.eE]/.test(text[i] ?? '')) stop('bad number');
      return;
    }
    for (const lit of LITERALS) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    if (ch === "'") stop('strings need double quotes');
    stop(`expected a value, got ${show(i)}`);
  };

  const object = (depth: number): void => {
    i++;
    skipWs();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipWs();
      if (i >= text.length) stop('unexpected end of file (missing "}")');
      if (text[i] !== '"') stop(text[i] === '}' ? 'trailing comma before "}"' : `expected a property name in double quotes, got ${show(i)}`);
      string();
      skipWs();
      if (text[i] !== ':') stop(`expected ":" after the property name, got ${show(i)}`);
      i++;
      value(depth + 1);
      skipWs();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      stop(i >= text.length ? 'unexpected end of file (missing "}")' : `expected "," or "}" after a property value, got ${show(i)}`);
    }
  };

  const array = (depth: number): void => {
    i++;
    skipWs();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      skipWs();
      if (text[i] === ']') stop('trailing comma before "]"');
      value(depth + 1);
      skipWs();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      stop(i >= text.length ? 'unexpected end of file (missing "]")' : `expected "," or "]" after an array item, got ${show(i)}`);
    }
  };

  try {
    value(0);
    skipWs();
    if (i < text.length) stop(`unexpected ${show(i)} after the end of the document`);
    return null;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const before = text.slice(0, err.pos);
    const line = before.split('\n').length;
    return { pos: err.pos, message: err.why, line, column: err.pos - before.lastIndexOf('\n') };
  }
}
