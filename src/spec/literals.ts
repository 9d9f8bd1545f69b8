/**
 * The parameters text: `name = value` lines whose values are Python or
 * JSON literals, read by a small parser (no Python in the browser).
 */
import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { PYTHON_KEYWORDS } from '@user-batch/contract/lib/python';

/**
 * A problem with one line of the parameters text.
 */
export interface IParameterError {
  line: number;
  message: string;
}

export interface IParsedParameters {
  parameters: Record<string, Batch.ParameterValue>;
  errors: IParameterError[];
  /** The line each parameter was set on, so later checks can name it. */
  lines: Record<string, number>;
}

/**
 * Parse the parameters textarea: one `name = value` a line. Values are
 * Python or JSON literals (numbers, True/False/None, quoted strings, lists,
 * dicts); anything else is taken as a bare string. Blank lines and `#`
 * comment lines are skipped.
 */
export function parseParameters(
  text: string,
  trans: TranslationBundle = loadTrans()
): IParsedParameters {
  const parameters: Record<string, Batch.ParameterValue> = {};
  const errors: IParameterError[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) {
      return;
    }
    const eq = trimmed.indexOf('=');
    if (eq < 0) {
      errors.push({ line, message: trans.__('expected "name = value"') });
      return;
    }
    const name = trimmed.slice(0, eq).trim();
    const valueText = trimmed.slice(eq + 1).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      errors.push({
        line,
        message: trans.__(
          '"%1" is not a Python name (letters, digits and _, not starting with a digit)',
          name
        )
      });
      return;
    }
    if (PYTHON_KEYWORDS.has(name)) {
      errors.push({
        line,
        message: trans.__(
          '"%1" is a Python keyword and cannot be a parameter',
          name
        )
      });
      return;
    }
    if (seen.has(name)) {
      errors.push({
        line,
        message: trans.__(
          '"%1" is already set on line %2',
          name,
          seen.get(name)
        )
      });
      return;
    }
    if (!valueText) {
      errors.push({ line, message: trans.__('"%1" has no value', name) });
      return;
    }
    try {
      parameters[name] = parseValue(valueText, trans);
      seen.set(name, line);
    } catch (reason) {
      errors.push({
        line,
        message: trans.__(
          'the value of "%1" cannot be read: %2',
          name,
          reason instanceof Error ? reason.message : String(reason)
        )
      });
    }
  });
  return { parameters, errors, lines: Object.fromEntries(seen) };
}

/**
 * Format parameter errors as one message, a line each; `field` names the
 * textarea the lines belong to (default: Parameters).
 */
export function formatParameterErrors(
  errors: IParameterError[],
  field?: string,
  trans: TranslationBundle = loadTrans()
): string {
  const label = field ?? trans.__('Parameters');
  return errors
    .map(e => trans.__('%1, line %2: %3.', label, e.line, e.message))
    .join('\n');
}

/**
 * Parse one value: a literal, or a bare word taken as a string.
 */
export function parseValue(
  text: string,
  trans: TranslationBundle = loadTrans()
): Batch.ParameterValue {
  const first = text[0];
  const literalStart =
    first === '"' ||
    first === "'" ||
    first === '[' ||
    first === '{' ||
    first === '(' ||
    /^[+-]?(\d|\.\d)/.test(text);
  try {
    return new LiteralParser(text, trans).parseAll();
  } catch (reason) {
    if (literalStart) {
      throw reason;
    }
    return text; // a bare word or phrase
  }
}

/**
 * A small parser for Python/JSON literals.
 */
class LiteralParser {
  constructor(
    private readonly text: string,
    private readonly trans: TranslationBundle
  ) {}

  parseAll(): Batch.ParameterValue {
    const value = this.value();
    this.space();
    if (this.pos < this.text.length) {
      throw this.unexpected();
    }
    return value;
  }

  private value(): Batch.ParameterValue {
    this.space();
    const c = this.text[this.pos];
    if (c === undefined) {
      throw new Error(this.trans.__('a value is missing'));
    }
    if (c === '"' || c === "'") {
      return this.string();
    }
    if (c === '[') {
      return this.sequence('[', ']');
    }
    if (c === '(') {
      return this.sequence('(', ')');
    }
    if (c === '{') {
      return this.dict();
    }
    const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(
      this.text.slice(this.pos)
    );
    if (number) {
      this.pos += number[0].length;
      return Number(number[0]);
    }
    const word = /^[A-Za-z_]+/.exec(this.text.slice(this.pos));
    if (word) {
      const constants: Record<string, Batch.ParameterValue> = {
        True: true,
        true: true,
        False: false,
        false: false,
        None: null,
        null: null
      };
      if (word[0] in constants) {
        this.pos += word[0].length;
        return constants[word[0]];
      }
    }
    throw this.unexpected();
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === quote) {
        return out;
      }
      if (c === '\\') {
        const e = this.text[this.pos++];
        const escapes: Record<string, string> = {
          n: '\n',
          t: '\t',
          r: '\r',
          '\\': '\\',
          "'": "'",
          '"': '"',
          '0': '\0'
        };
        if (e === 'u') {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            throw new Error(
              this.trans.__('a \\u escape needs four hex digits')
            );
          }
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
        } else if (e !== undefined && e in escapes) {
          out += escapes[e];
        } else {
          out += '\\' + (e ?? '');
        }
      } else {
        out += c;
      }
    }
    throw new Error(this.trans.__('the string has no closing %1', quote));
  }

  private sequence(open: string, close: string): Batch.ParameterValue[] {
    this.pos++; // open
    const items: Batch.ParameterValue[] = [];
    for (;;) {
      this.space();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.space();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
      } else if (c === close) {
        this.pos++;
        return items;
      } else {
        throw new Error(
          this.trans.__(
            'expected "," or "%1" after an item of %2…%1',
            close,
            open
          )
        );
      }
    }
  }

  private dict(): { [key: string]: Batch.ParameterValue } {
    this.pos++; // {
    const out: { [key: string]: Batch.ParameterValue } = {};
    for (;;) {
      this.space();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') {
        throw new Error(
          this.trans.__('dictionary keys must be strings or numbers')
        );
      }
      this.space();
      if (this.text[this.pos] !== ':') {
        throw new Error(this.trans.__('expected ":" after a dictionary key'));
      }
      this.pos++;
      out[String(key)] = this.value();
      this.space();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
      } else if (c === '}') {
        this.pos++;
        return out;
      } else {
        throw new Error(this.trans.__('expected "," or "}" in a dictionary'));
      }
    }
  }

  private unexpected(): Error {
    return new Error(
      this.trans.__('unexpected "%1"', this.text.slice(this.pos))
    );
  }

  private space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) {
      this.pos++;
    }
  }

  private pos = 0;
}
