/** The calendar day (`YYYY-MM-DD`) that `instant` falls on in `timeZone`: where `expires` and `until` end. */
export function localDate(instant: Date, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD; formatToParts keeps this independent of that locale detail.
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}
