import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CsvScanner, redactValue, scanCsvText } from './csv.ts';

describe('CSV scanner', () => {
  it('reads the header and counts records, with or without a final line break', () => {
    expect(scanCsvText('a,b\n1,2\n3,4\n')).toEqual({
      columns: ['a', 'b'],
      recordCount: 2,
      samples: [
        ['1', '2'],
        ['3', '4'],
      ],
    });
    expect(scanCsvText('a,b\r\n1,2\r\n3,4').recordCount).toBe(2);
  });

  it('keeps commas, quotes and line breaks inside quoted fields', () => {
    const scan = scanCsvText('id,note\n1,"a, ""quoted""\nline"\n2,plain\n');
    expect(scan.recordCount).toBe(2);
    expect(scan.samples[0]).toEqual(['1', 'a, "quoted"\nline']);
  });

  it('ignores blank lines', () => {
    expect(scanCsvText('a\n\n1\n\n2\n\n').recordCount).toBe(2);
  });

  it('gives the same result however the text is split into chunks', () => {
    const field = fc.oneof(
      fc.stringMatching(/^[a-z0-9 ]{0,6}$/),
      fc.stringMatching(/^[a-z,"\n]{0,6}$/).map((s) => `"${s.replaceAll('"', '""')}"`),
    );
    const row = fc.array(field, { minLength: 2, maxLength: 2 }).map((f) => f.join(','));
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 8 }), fc.nat(), (rows, cut) => {
        const text = `h1,h2\n${rows.join('\n')}\n`;
        const whole = scanCsvText(text, 100);
        const scanner = new CsvScanner({ maxSamples: 100 });
        const at = cut % (text.length + 1);
        scanner.push(text.slice(0, at));
        scanner.push(text.slice(at));
        expect(scanner.finish()).toEqual(whole);
      }),
    );
  });
});

describe('redactValue', () => {
  it('keeps the shape and drops the content', () => {
    expect(redactValue('Jean Dupont')).toBe('Xxxx Xxxxxx');
    expect(redactValue('1987-03-12')).toBe('9999-99-99');
    expect(redactValue('élodie@chu.fr')).toBe('xxxxxx@xxx.xx');
  });
});
