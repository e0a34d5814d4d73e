/** Code-unit order: the same on every machine and locale (localeCompare is not), so output is byte-stable. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
