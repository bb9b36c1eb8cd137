/**
 * What codecs/ offers the recorder: every decoder factory (registered by
 * recorder/media/decoder.ts in each render thread) and every recording writer.
 */
import { G711_DECODER } from './g711.js';
import { L16_DECODER } from './l16.js';
import type { DecoderFactory, WriterFactory } from './types.js';
import { WAV_WRITER } from './wav-writer.js';

export const DECODERS: readonly DecoderFactory[] = [G711_DECODER, L16_DECODER];

export const WRITERS: readonly WriterFactory[] = [WAV_WRITER];
