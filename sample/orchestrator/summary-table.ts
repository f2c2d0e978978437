import type { SummaryRow } from './delivery-check.js';

const COLUMNS: Array<{ title: string; cell: (row: SummaryRow) => string }> = [
  { title: 'event type', cell: (row) => row.eventType },
  { title: 'event id', cell: (row) => row.eventId },
  { title: 'attempt', cell: (row) => (row.attempt === null ? '-' : String(row.attempt)) },
  { title: 'hex (guide)', cell: (row) => mark(row.guideSignatureOk) },
  { title: 'standard webhooks', cell: (row) => mark(row.standardSignatureOk) },
  { title: 'API status', cell: (row) => row.apiStatus ?? '-' },
  { title: 'result', cell: (row) => row.result },
];

/** The rows as an aligned text table. */
export function renderSummaryTable(rows: readonly SummaryRow[]): string {
  const cells = [COLUMNS.map((column) => column.title), ...rows.map((row) => COLUMNS.map((column) => column.cell(row)))];
  const widths = COLUMNS.map((_, index) => Math.max(...cells.map((line) => line[index].length)));
  const format = (line: string[]) =>
    line
      .map((cell, index) => cell.padEnd(widths[index]))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [format(cells[0]), rule, ...cells.slice(1).map(format)].join('\n');
}

function mark(ok: boolean | null): string {
  if (ok === null) return '-';
  return ok ? 'ok' : 'FAILED';
}
