/**
 * The reference a reporter gets on the receipt and the security team sees on the incident page:
 * short enough to read out on the phone, derived from the (random) report id.
 */
export function reportReference(reportId: string): string {
  return `SR-${reportId
    .replace(/[^0-9a-zA-Z]/g, "")
    .slice(0, 8)
    .toUpperCase()}`;
}
