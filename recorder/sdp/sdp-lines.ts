/**
 * The line structure of an SDP body (RFC 8866 §5): `<type>=<value>` lines, a session section,
 * then one media section per m= line. This pass finds the sections, keeps the lines that
 * sdp-transform will see, and parses the two lines it gets wrong for us: m= (it misses the
 * `<port>/<count>` form of §5.14) and o= (it wants a numeric sess-id, which §5.2 does not).
 */

export interface SdpSection {
  /** The m= value ('' for the session section). */
  mLine: string;
  /** How many c= lines the section holds (to tell "absent" from "unparsable"). */
  connectionLines: number;
}

export interface SdpScan {
  /** Trimmed `x=…` lines, in order, up to the last kept media section. */
  lines: string[];
  session: SdpSection;
  media: SdpSection[];
  /** The first o= value, or null. */
  origin: string | null;
  sawVersion: boolean;
  /** Non-empty lines that are not `<lower-case letter>=…`. */
  badLines: number;
  /** m= sections beyond the limit (not in `lines`, not in `media`). */
  droppedMedia: number;
}

const LINE = /\r\n|\r|\n/;

/** Splits `text` into sections, keeping at most `maxMedia` media sections. */
export function scanSdp(text: string, maxMedia: number): SdpScan {
  const scan: SdpScan = {
    lines: [],
    session: { mLine: '', connectionLines: 0 },
    media: [],
    origin: null,
    sawVersion: false,
    badLines: 0,
    droppedMedia: 0,
  };
  let section = scan.session;
  for (const raw of text.split(LINE)) {
    // Tolerate indentation and trailing blanks (hand-written and SIPp-dedented SDP).
    const line = raw.trim();
    if (line === '') continue;
    const c = line.charCodeAt(0);
    if (line.length < 2 || line.charCodeAt(1) !== 0x3d /* = */ || c < 0x61 || c > 0x7a) {
      scan.badLines++;
      continue;
    }
    const type = line[0];
    if (type === 'm') {
      if (scan.media.length >= maxMedia) {
        scan.droppedMedia++;
        continue;
      }
      section = { mLine: line.slice(2), connectionLines: 0 };
      scan.media.push(section);
    } else if (scan.droppedMedia > 0) {
      continue; // inside a dropped media section
    } else if (type === 'c') {
      section.connectionLines++;
    } else if (type === 'o' && scan.origin === null) {
      scan.origin = line.slice(2);
    } else if (type === 'v') {
      scan.sawVersion = true;
    }
    scan.lines.push(line);
  }
  return scan;
}

export interface MediaLine {
  type: string;
  port: number;
  portCount: number;
  proto: string;
  fmts: string[];
}

const WS = /[ \t]+/;

/** `<media> <port>[/<number of ports>] <proto> <fmt> …` (RFC 8866 §5.14); null when unparsable. */
export function parseMediaLine(value: string): MediaLine | null {
  const t = value.trim().split(WS);
  if (t.length < 3) return null;
  const pm = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(t[1]!);
  if (!pm) return null;
  const port = Number(pm[1]);
  const portCount = pm[2] === undefined ? 1 : Number(pm[2]);
  if (port > 65535 || portCount < 1) return null;
  return { type: t[0]!, port, portCount, proto: t[2]!, fmts: t.slice(3) };
}

export interface Origin {
  username: string;
  sessionId: string;
  version: string;
  address: string;
}

/** `<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2). */
export function parseOriginLine(value: string): Origin | null {
  const t = value.trim().split(WS);
  if (t.length < 6) return null;
  return { username: t[0]!, sessionId: t[1]!, version: t[2]!, address: t[5]! };
}
