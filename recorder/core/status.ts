/**
 * Result of decoding wire data. Decoders return one of these instead of throwing
 * (STYLE.md "Bad input"): truncated by snaplen/end of data is kept apart from malformed,
 * as Wireshark's show_exception.c does, because the remedies differ (bigger snaplen vs. a bug upstream).
 */
export const Status = {
  Ok: 0,
  /** Fewer bytes than the header or its length fields need. */
  Truncated: 1,
  /** Bytes are present but contradict the format. */
  Malformed: 2,
  /** Valid, but a variant we do not decode (counted, skipped). */
  Unsupported: 3,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

export const statusName = (s: Status): string =>
  s === Status.Ok ? 'ok' : s === Status.Truncated ? 'truncated' : s === Status.Malformed ? 'malformed' : 'unsupported';
