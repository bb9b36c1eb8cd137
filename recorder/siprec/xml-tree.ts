/**
 * A small, safe XML element tree for SIPREC metadata (RFC 7865), built on fast-xml-parser.
 *
 * Metadata comes from the network, so the parse is bounded before it starts: the text length,
 * the element nesting (a pre-scan, then fast-xml-parser's own `maxNestedTags`) and the element
 * count are capped, and a document with a DOCTYPE is refused outright: RFC 7865 metadata never
 * declares one, and a DOCTYPE is how entity-expansion ("billion laughs") and external-entity
 * attacks are carried. Only the five predefined XML entities and character references are
 * decoded.
 *
 * Namespaces are resolved here (XML Namespaces 1.0 §6: prefixes are scoped to the element that
 * declares them), so callers match on (namespace, local name) and never on a prefix: Sonus sends
 * `tns:participant`, Oracle a default namespace, both must read the same.
 *
 * Each element keeps its [start, end) span in the source text, so vendor extension data can be
 * stored verbatim (RFC 7865 §6.11 extensiondata, Acme `apkt:`, AudioCodes `ac:`…).
 *
 * Never throws on data: the result says what went wrong. A document that is not well-formed
 * (a raw `&`, a missing end tag) is still parsed leniently and returned with `wellFormed: false`,
 * because losing a recording's parties over one stray ampersand helps nobody.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlElement {
  /** Qualified name as written (`tns:participant`). */
  qname: string;
  /** Local name (`participant`). */
  local: string;
  /** Namespace URI in scope for the element's prefix ('' when none). */
  ns: string;
  /** Attributes by qualified name as written (xmlns declarations included). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside the element, concatenated (entities decoded). */
  text: string;
  /** Span of the element in the source text: source.slice(start, end) is the element. */
  start: number;
  end: number;
}

export interface XmlLimits {
  /** Characters of XML accepted; longer text is refused. */
  maxChars: number;
  /** Nesting depth of elements. */
  maxDepth: number;
  /** Elements in one document. */
  maxElements: number;
}

export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = { maxChars: 256 * 1024, maxDepth: 24, maxElements: 5000 };

export type XmlRefusal = 'too_large' | 'too_deep' | 'too_many_elements' | 'doctype' | 'no_root' | 'parse_error';

export type XmlParseResult =
  | { ok: true; root: XmlElement; wellFormed: boolean; error: string }
  | { ok: false; reason: XmlRefusal; error: string };

/** Attribute value of an attribute by local name, in no namespace or any prefix (lenient). */
export function attr(el: XmlElement, local: string): string | undefined {
  const direct = el.attrs[local];
  if (direct !== undefined) return direct;
  for (const k in el.attrs) {
    const c = k.indexOf(':');
    if (c > 0 && k.slice(c + 1) === local && k.slice(0, c) !== 'xmlns') return el.attrs[k];
  }
  return undefined;
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  captureMetaData: true,
  // Predefined entities and character references only (the prescan refuses DOCTYPEs, so none
  // can be declared); each expands to one character, so the expansion caps only need be loose.
  processEntities: { enabled: true, maxEntityCount: 0, maxTotalExpansions: 1_000_000, maxExpandedLength: 10_000_000 },
  htmlEntities: false,
  maxNestedTags: DEFAULT_XML_LIMITS.maxDepth + 1,
});
const META = XMLParser.getMetaDataSymbol() as unknown as string;

/** Parse `text` into an element tree, within `limits`. */
export function parseXmlTree(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlParseResult {
  if (text.length > limits.maxChars) return { ok: false, reason: 'too_large', error: `${text.length} characters (limit ${limits.maxChars})` };
  const scan = prescan(text, limits);
  if (scan !== null) return scan;
  let wellFormed = true;
  let error = '';
  const v = XMLValidator.validate(text, { allowBooleanAttributes: true });
  if (v !== true) {
    wellFormed = false;
    error = `line ${v.err.line}: ${v.err.msg}`;
  }
  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch (err) {
    // fast-xml-parser is third-party code on wire data: its throw is a result, not a crash.
    return { ok: false, reason: 'parse_error', error: err instanceof Error ? err.message : String(err) };
  }
  const count = { n: 0 };
  const roots: XmlElement[] = [];
  if (Array.isArray(nodes)) for (const n of nodes) collect(n, new Map([['xml', XML_NS]]), roots, count, limits);
  if (count.n > limits.maxElements) return { ok: false, reason: 'too_many_elements', error: `more than ${limits.maxElements} elements` };
  const root = roots[0];
  if (root === undefined) return { ok: false, reason: 'no_root', error: error || 'no element' };
  if (roots.length > 1 && wellFormed) {
    wellFormed = false;
    error = 'several root elements';
  }
  return { ok: true, root, wellFormed, error };
}

/**
 * One linear pass over the markup before the real parse: refuses DOCTYPEs, too deep nesting and
 * too many elements without building anything, so a hostile document costs O(n) and no memory.
 */
function prescan(s: string, limits: XmlLimits): XmlParseResult | null {
  let depth = 0;
  let elements = 0;
  let i = s.indexOf('<');
  while (i >= 0 && i < s.length) {
    const c = s.charCodeAt(i + 1);
    if (c === 0x21 /* ! */) {
      if (s.startsWith('<!--', i)) {
        const e = s.indexOf('-->', i + 4);
        i = e < 0 ? -1 : s.indexOf('<', e + 3);
        continue;
      }
      if (s.startsWith('<![CDATA[', i)) {
        const e = s.indexOf(']]>', i + 9);
        i = e < 0 ? -1 : s.indexOf('<', e + 3);
        continue;
      }
      // <!DOCTYPE, <!ENTITY, <!ELEMENT…: declarations have no place in metadata.
      return { ok: false, reason: 'doctype', error: 'markup declaration (DOCTYPE/ENTITY) refused' };
    }
    const gt = tagEnd(s, i + 1);
    if (c === 0x2f /* / */) depth--;
    else if (c !== 0x3f /* ? */) {
      elements++;
      if (elements > limits.maxElements) return { ok: false, reason: 'too_many_elements', error: `more than ${limits.maxElements} elements` };
      const selfClosing = gt > 0 && s.charCodeAt(gt - 1) === 0x2f;
      if (!selfClosing) {
        depth++;
        if (depth > limits.maxDepth) return { ok: false, reason: 'too_deep', error: `nesting deeper than ${limits.maxDepth}` };
      }
    }
    if (gt < 0) break;
    i = s.indexOf('<', gt + 1);
  }
  return null;
}

/** Index of the '>' that ends the tag starting before `i`, skipping quoted attribute values; -1 if none. */
function tagEnd(s: string, i: number): number {
  let q = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (q !== 0) {
      if (c === q) q = 0;
    } else if (c === 0x22 || c === 0x27) q = c;
    else if (c === 0x3e) return i;
    else if (c === 0x3c) return i - 1; // a new tag starts: this one was never closed
  }
  return -1;
}

/** fast-xml-parser's ordered node → our element (recursively), resolving namespaces. */
function collect(node: unknown, scope: Map<string, string>, out: XmlElement[], count: { n: number }, limits: XmlLimits): void {
  if (typeof node !== 'object' || node === null) return;
  const n = node as OrderedNode;
  let qname: string | undefined;
  for (const k of Object.keys(n)) {
    if (k !== ':@' && k !== '#text' && k !== '#comment' && k !== '#cdata') {
      qname = k;
      break;
    }
  }
  if (qname === undefined) return;
  count.n++;
  if (count.n > limits.maxElements) return;
  const rawAttrs = n[':@'];
  const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
  let local = scope;
  if (typeof rawAttrs === 'object' && rawAttrs !== null) {
    for (const [k, v] of Object.entries(rawAttrs as Record<string, unknown>)) {
      const value = typeof v === 'string' ? v : v === true ? '' : String(v);
      attrs[k] = value;
      if (k === 'xmlns' || k.startsWith('xmlns:')) {
        if (local === scope) local = new Map(scope);
        local.set(k === 'xmlns' ? '' : k.slice(6), value.trim());
      }
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon > 0 ? qname.slice(0, colon) : '';
  const meta = n[META] as { startIndex?: number; endIndex?: number } | undefined;
  const el: XmlElement = {
    qname,
    local: colon > 0 ? qname.slice(colon + 1) : qname,
    ns: local.get(prefix) ?? '',
    attrs,
    children: [],
    text: '',
    start: meta?.startIndex ?? -1,
    end: meta?.endIndex ?? -1,
  };
  const kids = n[qname];
  if (Array.isArray(kids)) {
    for (const k of kids) {
      if (typeof k !== 'object' || k === null) continue;
      const t = (k as OrderedNode)['#text'];
      if (t !== undefined) {
        el.text += charRefs(scalarText(t));
        continue;
      }
      const cd = (k as OrderedNode)['#cdata'];
      if (Array.isArray(cd)) {
        for (const c of cd) {
          const ct = (c as OrderedNode)['#text'];
          if (ct !== undefined) el.text += scalarText(ct);
        }
        continue;
      }
      collect(k, local, el.children, count, limits);
    }
  }
  out.push(el);
}

/** Character references (XML 1.0 §4.1), which the parser leaves as written; bad ones stay as text. */
function charRefs(t: string): string {
  if (t.indexOf('&#') < 0) return t;
  return t.replace(/&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});/g, (m, v: string) => {
    const cp = v.startsWith('x') ? parseInt(v.slice(1), 16) : Number(v);
    return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m;
  });
}

/** A text node's value (the parser gives strings; numbers or booleans only if configured to). */
const scalarText = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
