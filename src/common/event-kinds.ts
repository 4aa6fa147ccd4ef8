/**
 * The kinds of signed event the bridge takes and chains. This list drives the signed body shapes,
 * the `@SignedRequest(kind)` routes, the export reader, the log mirrors and the metrics labels; the
 * `chain_entries.type` CHECK constraint must allow exactly these (test/event-kinds.int-spec.ts).
 */
export const EVENT_KINDS = ['update', 'heartbeat'] as const;

export type EventKind = (typeof EVENT_KINDS)[number];

export function isEventKind(value: unknown): value is EventKind {
  return (EVENT_KINDS as readonly unknown[]).includes(value);
}
