/**
 * What codecs/ offers the recorder: every decoder factory (registered by
 * recorder/media/decoder.ts in each render thread) and every recording writer.
 */
import type { DecoderFactory, WriterFactory } from './types.js';

export const DECODERS: readonly DecoderFactory[] = [];

export const WRITERS: readonly WriterFactory[] = [];
