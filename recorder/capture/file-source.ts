/**
 * Streaming reader for capture files: classic pcap (draft-ietf-opsawg-pcap) and pcapng
 * (draft-ietf-opsawg-pcapng). The file is read in large chunks through one reused buffer,
 * so its size does not matter; frames are zero-copy views into that buffer.
 *
 * Counters: `capture.packets` (frames delivered), `capture.truncated` (the file ends inside
 * a record), `capture.malformed` (a record or block contradicts the format; pcap stops
 * there, pcapng skips the block when its length can be trusted and stops otherwise).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { CaptureFileError, type CaptureFile, type CaptureInterface } from './capture-file.js';
import { CHUNK_SIZE, ChunkReader, Step, type RecordDecoder } from './chunk-reader.js';
import type { Frame } from './frame.js';
import { PCAP_FILE_HEADER_LEN, PcapMagic, PcapRecordDecoder, decodePcapHeader, isPcapMagic } from './pcap-file.js';
import {
  BlockType,
  MAX_BLOCK,
  PcapngBlockDecoder,
  SHB_MIN,
  SHB_OFF_MAJOR,
  sectionLittleEndian,
} from './pcapng-file.js';
import type { Counters } from '../core/counters.js';

export { CaptureFileError, type CaptureFile, type CaptureInterface } from './capture-file.js';

/** Frames per batch: large enough to amortise the async step, small enough to stay in cache. */
export const BATCH_SIZE = 1024;

/** First bytes as hex, for "not a capture" messages. */
const hexStart = (buf: Buffer, n: number): string =>
  [...buf.subarray(0, Math.min(n, 4))].map((b) => b.toString(16).padStart(2, '0')).join(' ');

export interface OpenOptions {
  /** Read size in bytes (default 4 MiB); tests use tiny sizes to reach the refill paths. */
  chunkSize?: number;
}

/**
 * Opens a pcap or pcapng file and reads its header (and, for pcapng, the interface
 * descriptions before the first packet). Throws CaptureFileError when the file cannot
 * be opened or is not a capture; later damage is counted, never thrown.
 */
export async function openCaptureFile(path: string, counters: Counters, options: OpenOptions = {}): Promise<CaptureFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (isSystemError(e)) throw new CaptureFileError(`${path}: cannot open (${e.code})`);
    throw e;
  }
  try {
    return await start(path, fh, counters, options.chunkSize ?? CHUNK_SIZE);
  } catch (e) {
    await fh.close().catch(() => undefined);
    if (isSystemError(e)) throw new CaptureFileError(`${path}: cannot read (${e.code})`);
    throw e;
  }
}

async function start(path: string, fh: FileHandle, counters: Counters, chunkSize: number): Promise<CaptureFile> {
  const st = await fh.stat();
  if (!st.isFile()) throw new CaptureFileError(`${path}: not a regular file`);
  const reader = new ChunkReader(fh, Math.max(1, Math.floor(chunkSize)));
  await reader.fill(PCAP_FILE_HEADER_LEN);
  const n = reader.available;
  const buf = reader.buf;
  if (n === 0) throw new CaptureFileError(`${path}: not a pcap or pcapng capture (empty file)`);
  const notCapture = (): CaptureFileError =>
    new CaptureFileError(`${path}: not a pcap or pcapng capture (starts with ${hexStart(buf, n)})`);
  if (n < 4) throw notCapture();
  const magic = buf.readUInt32BE(0);

  if (isPcapMagic(magic)) {
    if (n < PCAP_FILE_HEADER_LEN) {
      throw new CaptureFileError(`${path}: truncated pcap file header (${n} of ${PCAP_FILE_HEADER_LEN} bytes)`);
    }
    const header = decodePcapHeader(buf, 0);
    if (header.versionMajor !== 2) {
      throw new CaptureFileError(`${path}: unsupported pcap version ${header.versionMajor}.${header.versionMinor}`);
    }
    reader.start = PCAP_FILE_HEADER_LEN;
    const decoder = new PcapRecordDecoder(reader, header, counters);
    return new FileSource(path, 'pcap', [header.iface], st.size, fh, reader, decoder, counters);
  }
  if (magic === PcapMagic.ModifiedBE || magic === PcapMagic.ModifiedLE) {
    throw new CaptureFileError(`${path}: unsupported pcap variant (modified/Kuznetzov format)`);
  }
  if (magic !== BlockType.SectionHeader) throw notCapture();

  // pcapng: the file must open with a whole, sane Section Header Block (§4.1).
  if (n < 12) throw new CaptureFileError(`${path}: truncated pcapng section header block`);
  const le = sectionLittleEndian(buf, 0);
  if (le === null) throw notCapture();
  const btl = le ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  if (btl < SHB_MIN || btl % 4 !== 0 || btl > MAX_BLOCK) {
    throw new CaptureFileError(`${path}: malformed pcapng section header block (length ${btl})`);
  }
  if (!(await reader.fill(btl))) throw new CaptureFileError(`${path}: truncated pcapng section header block`);
  const major = le ? reader.buf.readUInt16LE(SHB_OFF_MAJOR) : reader.buf.readUInt16BE(SHB_OFF_MAJOR);
  if (major !== 1) throw new CaptureFileError(`${path}: unsupported pcapng version ${major}`);
  const interfaces: CaptureInterface[] = [];
  const decoder = new PcapngBlockDecoder(reader, interfaces, counters);
  // Take the SHB and the IDBs that precede the first packet, as far as already buffered,
  // so `interfaces` is known before the first batch; max = 0 stops at the first packet.
  decoder.decode([], 0);
  return new FileSource(path, 'pcapng', interfaces, st.size, fh, reader, decoder, counters);
}

/** I/O failures (ENOENT, EACCES, EIO...) become CaptureFileError; anything else is a bug and propagates. */
const isSystemError = (e: unknown): e is NodeJS.ErrnoException & { code: string } =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';

class FileSource implements CaptureFile {
  private closed = false;

  constructor(
    readonly path: string,
    readonly format: 'pcap' | 'pcapng',
    readonly interfaces: CaptureInterface[],
    readonly size: number,
    private readonly fh: FileHandle,
    private readonly reader: ChunkReader,
    private readonly decoder: RecordDecoder,
    private readonly counters: Counters,
  ) {}

  get bytesRead(): number {
    return this.reader.offset;
  }

  async *batches(): AsyncGenerator<Frame[], void, undefined> {
    const { reader, decoder, counters } = this;
    for (;;) {
      const out: Frame[] = [];
      const step = decoder.decode(out, BATCH_SIZE);
      if (out.length > 0) {
        counters.inc('capture.packets', out.length);
        // Yield before any fill/skip: those overwrite the buffer the frames point into.
        yield out;
      }
      if (step === Step.Full) continue;
      if (step === Step.Stop) return;
      let more: boolean;
      try {
        more = step === Step.Skip ? reader.skip(decoder.skip, this.size) : await reader.fill(decoder.need);
      } catch (e) {
        if (isSystemError(e)) throw new CaptureFileError(`${this.path}: cannot read (${e.code})`);
        throw e;
      }
      if (!more) {
        if (step === Step.Skip || reader.available > 0) counters.inc('capture.truncated');
        return;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
