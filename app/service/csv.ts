/**
 * A streaming CSV (RFC 4180) scanner for the import preview and the import's checking stage: it
 * finds the header, counts records (quoted fields may hold commas and line breaks) and keeps a few
 * sample rows. It holds one chunk in memory at a time.
 */

export interface CsvScan {
  readonly columns: string[];
  readonly recordCount: number;
  readonly samples: string[][];
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** Incremental scanner: feed decoded text with `push`, then call `finish`. */
export class CsvScanner {
  readonly #maxSamples: number;
  readonly #maxField: number;
  #inQuotes = false;
  #afterQuote = false;
  #field = '';
  #fieldTooLong = false;
  #row: string[] = [];
  #rowHasContent = false;
  #header: string[] | null = null;
  #records = 0;
  #samples: string[][] = [];

  constructor(options: { maxSamples?: number; maxField?: number } = {}) {
    this.#maxSamples = options.maxSamples ?? 3;
    this.#maxField = options.maxField ?? 200;
  }

  /** Whether the current row's fields need keeping (header and sample rows only). */
  #keeping(): boolean {
    return this.#header === null || this.#samples.length < this.#maxSamples;
  }

  #endField(): void {
    if (this.#keeping()) this.#row.push(this.#field);
    this.#field = '';
    this.#fieldTooLong = false;
  }

  #endRow(): void {
    this.#endField();
    if (this.#rowHasContent) {
      if (this.#header === null) this.#header = this.#row;
      else {
        this.#records += 1;
        if (this.#samples.length < this.#maxSamples) this.#samples.push(this.#row);
      }
    }
    this.#row = [];
    this.#rowHasContent = false;
  }

  #append(text: string): void {
    if (!this.#keeping() || this.#fieldTooLong) return;
    this.#field += text;
    if (this.#field.length > this.#maxField) {
      this.#field = this.#field.slice(0, this.#maxField);
      this.#fieldTooLong = true;
    }
  }

  push(chunk: string): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      const c = chunk.charCodeAt(i);
      if (this.#inQuotes) {
        if (c === QUOTE) {
          this.#append(chunk.slice(start, i));
          this.#inQuotes = false;
          this.#afterQuote = true;
          start = i + 1;
        }
        continue;
      }
      if (c === QUOTE) {
        // A quote right after a closing quote is an escaped quote inside the field.
        if (this.#afterQuote) this.#append('"');
        else this.#append(chunk.slice(start, i));
        this.#inQuotes = true;
        this.#afterQuote = false;
        this.#rowHasContent = true;
        start = i + 1;
      } else if (c === COMMA) {
        this.#append(chunk.slice(start, i));
        this.#afterQuote = false;
        this.#rowHasContent = true;
        this.#endField();
        start = i + 1;
      } else if (c === LF || c === CR) {
        this.#append(chunk.slice(start, i));
        this.#afterQuote = false;
        this.#endRow();
        start = i + 1;
      } else {
        this.#afterQuote = false;
        this.#rowHasContent = true;
      }
    }
    if (start < chunk.length) this.#append(chunk.slice(start));
  }

  finish(): CsvScan {
    if (this.#rowHasContent || this.#field !== '') this.#endRow();
    return {
      columns: this.#header ?? [],
      recordCount: this.#records,
      samples: this.#samples,
    };
  }
}

/** Scans a whole CSV text (for tests and small inputs). */
export function scanCsvText(text: string, maxSamples = 3): CsvScan {
  const scanner = new CsvScanner({ maxSamples });
  scanner.push(text);
  return scanner.finish();
}

/**
 * Masks a value to its shape so a preview shows structure, never content: letters become `x`/`X`,
 * digits `9`, other characters stay (dates keep their dashes, emails their `@`).
 */
export function redactValue(value: string, max = 40): string {
  const shape = value.replace(/\p{L}|\p{N}/gu, (c) =>
    /\p{N}/u.test(c) ? '9' : /\p{Lu}/u.test(c) ? 'X' : 'x',
  );
  return shape.length > max ? `${shape.slice(0, max)}…` : shape;
}
