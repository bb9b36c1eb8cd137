/**
 * The parts of a SIPREC request body (RFC 7866 §8: `multipart/mixed` with `application/sdp` and
 * `application/rs-metadata+xml`, RFC 7866 §9 also registers `application/rs-metadata`), in any
 * order, nested, each with its own headers, LF-only or CRLF. A body may also be SDP alone, or
 * metadata alone (an UPDATE that only changes participants).
 *
 * The metadata part is recognised by its media type, by `Content-Disposition: recording-session`
 * (RFC 7866 §9.1), or, when the type was mangled (BroadWorks bodies seen with `application/ +xml`),
 * by an XML body whose root looks like recording metadata.
 */
import type { Counters } from '../core/counters.js';
import type { SipMessage } from '../sip/message.js';
import { splitMultipart, type BodyPart } from '../sip/multipart.js';

export interface RecordingBody {
  /** The SDP part's text ('' when none). */
  sdp: string;
  /** The metadata part's text ('' when none). */
  metadata: string;
  /** The metadata part came with a type other than rs-metadata (mangled): recognised by content. */
  metadataGuessed: boolean;
  /** Parts of other types (Cisco's application/gtd…), by media type. */
  others: string[];
}

const isMetadataType = (ct: string): boolean => ct === 'application/rs-metadata+xml' || ct === 'application/rs-metadata';

const dispositionIsRecording = (p: BodyPart): boolean =>
  p.headers.some((h) => h.name === 'content-disposition' && /^\s*recording-session\b/i.test(h.value));

/** The body looks like metadata XML: an XML declaration or a `recording`/`recording_metadata` root near the start. */
const looksLikeMetadata = (b: Buffer): boolean => /^\s*(<\?xml[^>]*>\s*)?<([A-Za-z_][\w.-]*:)?recording(_metadata)?[\s>/]/.test(b.toString('utf8', 0, Math.min(b.length, 512)));

export function recordingBody(msg: SipMessage, counters?: Counters): RecordingBody {
  const out: RecordingBody = { sdp: '', metadata: '', metadataGuessed: false, others: [] };
  if (msg.body.length === 0) return out;
  const ct = msg.contentType;
  let parts: BodyPart[];
  if (ct.startsWith('multipart/')) parts = splitMultipart(msg.contentTypeFull, msg.body, counters);
  else {
    parts = [{ contentType: ct || 'application/sdp', contentTypeFull: msg.contentTypeFull, headers: msg.headers.filter((h) => h.name.startsWith('content-')), body: msg.body }];
  }
  for (const p of parts) {
    if (p.contentType === 'application/sdp' && out.sdp === '') out.sdp = p.body.toString('utf8');
    else if ((isMetadataType(p.contentType) || dispositionIsRecording(p)) && out.metadata === '') {
      out.metadata = p.body.toString('utf8');
      out.metadataGuessed = !isMetadataType(p.contentType);
    } else if (out.metadata === '' && looksLikeMetadata(p.body)) {
      out.metadata = p.body.toString('utf8');
      out.metadataGuessed = true;
    } else if (out.sdp === '' && p.body.length >= 3 && p.body.toString('latin1', 0, 3) === 'v=0') {
      counters?.inc('siprec.sdp_without_type');
      out.sdp = p.body.toString('utf8');
    } else out.others.push(p.contentType);
  }
  if (out.metadataGuessed) counters?.inc('siprec.metadata_type_guessed');
  return out;
}
