import type { ComponentChildren } from 'preact';

/** A plain table: a header row and rows of cells; `empty` when there are no rows. */
export function Table({ head, rows, empty, id }: { head: string[]; rows: ComponentChildren[][]; empty: string; id?: string }) {
  if (rows.length === 0) return <p class="empty">{empty}</p>;
  return (
    <table id={id}>
      <thead><tr>{head.map((h) => <th>{h}</th>)}</tr></thead>
      <tbody>{rows.map((row) => <tr>{row.map((cell) => <td>{cell}</td>)}</tr>)}</tbody>
    </table>
  );
}
