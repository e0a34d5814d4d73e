/** Times as the API writes them: ISO 8601 UTC to the second, `2024-05-01T08:00:00Z`; '' for none. */
export function apiTime(date: Date | undefined): string {
  return date === undefined ? '' : `${date.toISOString().slice(0, 19)}Z`;
}
