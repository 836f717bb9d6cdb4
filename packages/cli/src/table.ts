/**
 * Plain-text tables for `weft status` and `weft list`, and the small formatters they share.
 */

/** A column: its header and how to show one row's cell. */
export interface Column<T> {
  header: string;
  cell: (row: T) => string;
}

/** Rows under headers, columns padded to their widest cell (the last column is not padded). */
export function table<T>(columns: Array<Column<T>>, rows: T[]): string {
  const cells = [columns.map((column) => column.header), ...rows.map((row) => columns.map((column) => column.cell(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells
    .map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** `1.5 MiB` */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A number, or `-` when absent. */
export function num(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(Math.round(value * 100) / 100) : '-';
}

/** A string field, or `-`. */
export function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : '-';
}

/** `used/total` of one resource. */
export function usage(total: Record<string, number> | undefined, available: Record<string, number> | undefined, name: string): string {
  const all = total?.[name] ?? 0;
  return `${num(all - (available?.[name] ?? all))}/${num(all)}`;
}

/** The resources other than CPU, as `gpu 0/1, mem 2/8`. */
export function otherResources(total: Record<string, number> | undefined, available: Record<string, number> | undefined): string {
  const names = Object.keys(total ?? {}).filter((name) => name !== 'CPU').sort();
  return names.length === 0 ? '-' : names.map((name) => `${name} ${usage(total, available, name)}`).join(', ');
}
