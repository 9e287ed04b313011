/**
 * A small RFC 4180 CSV parser (quoted fields, doubled quotes, CRLF) plus typed field readers
 * that report the file, line and column of a bad value. No file system. Root ids are kept as
 * digit strings (they exceed 2^53); use BigInt(id) for arithmetic.
 */
import { DataError } from './errors.ts';

export interface CsvTable {
  source: string;
  header: string[];
  rows: string[][];
  /** 1-based line number in the file of each row (the header is line 1). */
  lines: number[];
}

export function parseCsv(text: string, source = '<csv>'): CsvTable {
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new DataError(source, `line ${startLine}`, 'a closing quote', 'end of file');
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          value += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new DataError(source, `line ${startLine}`, 'a comma or line end after a quoted field', `"${text[i]}"`);
        }
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        value = text.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') {
      i++;
      line++;
    }
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    records.push(fields);
    lines.push(startLine);
  }
  if (records.length === 0) throw new DataError(source, 'line 1', 'a header row', 'an empty file');
  const header = records[0]!.map((h) => h.trim());
  const rows = records.slice(1);
  const rowLines = lines.slice(1);
  for (let r = 0; r < rows.length; r++) {
    if (rows[r]!.length !== header.length) {
      throw new DataError(source, `line ${rowLines[r]}`, `${header.length} fields (${header.join(', ')})`, `${rows[r]!.length}`);
    }
  }
  return { source, header, rows, lines: rowLines };
}

/** Index of a required column; the error lists the columns that are there. */
export function columnIndex(t: CsvTable, name: string): number {
  const k = t.header.indexOf(name);
  if (k < 0) throw new DataError(t.source, 'header', `a column "${name}"`, `columns ${t.header.join(', ')}`);
  return k;
}

/** Reads row r's column `name` through a field parser. */
export function field<T>(t: CsvTable, r: number, col: number, parse: (v: string) => T | null, expected: string): T {
  const raw = t.rows[r]![col]!;
  const v = parse(raw.trim());
  if (v === null) throw new DataError(t.source, `line ${t.lines[r]}, field "${t.header[col]}"`, expected, `"${raw}"`);
  return v;
}

export const parseInteger = (v: string): number | null => (/^[+-]?\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : null);
export const parseNumber = (v: string): number | null => {
  if (v === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return null;
  return Number(v);
};
/** A root or nucleus id: a string of digits, kept exact. */
export const parseId = (v: string): string | null => (/^\d+$/.test(v) ? v : null);

/** Whole-column readers. */
export function intColumn(t: CsvTable, name: string): Float64Array {
  const c = columnIndex(t, name);
  const out = new Float64Array(t.rows.length);
  for (let r = 0; r < t.rows.length; r++) out[r] = field(t, r, c, parseInteger, 'an integer');
  return out;
}
export function numberColumn(t: CsvTable, name: string, allowEmpty = false): Float64Array {
  const c = columnIndex(t, name);
  const out = new Float64Array(t.rows.length);
  for (let r = 0; r < t.rows.length; r++) {
    if (allowEmpty && t.rows[r]![c]!.trim() === '') {
      out[r] = NaN;
      continue;
    }
    out[r] = field(t, r, c, parseNumber, allowEmpty ? 'a number or an empty field' : 'a number');
  }
  return out;
}
export function idColumn(t: CsvTable, name: string, allowEmpty = false): (string | null)[] {
  const c = columnIndex(t, name);
  return t.rows.map((row, r) => {
    if (allowEmpty && row[c]!.trim() === '') return null;
    return field(t, r, c, parseId, 'a non-negative integer id');
  });
}
export function stringColumn(t: CsvTable, name: string): string[] {
  const c = columnIndex(t, name);
  return t.rows.map((row) => row[c]!);
}
