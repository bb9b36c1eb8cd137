/**
 * What codecs/ offers the recorder: every decoder factory (registered by
 * recorder/media/decoder.ts in each render thread) and every recording writer.
 */
import { G711_DECODER } from './g711.js';
import { L16_DECODER } from './l16.js';
import type { DecoderFactory, WriterFactory } from './types.js';
import { AMR } from './amr.js';
import { G722 } from './g722.js';
import { G726 } from './g726.js';
import { G729 } from './g729.js';
import { GSM } from './gsm.js';
import { ILBC } from './ilbc.js';
import { SIREN } from './siren.js';
import { SPEEX } from './speex.js';
import { WAV_WRITER } from './wav-writer.js';
// WASM/npm codecs: Opus and SILK decoders, Ogg Opus and MP3 writers.
import { MP3_WRITER } from './mp3-writer.js';
import { OGG_OPUS_WRITER } from './ogg-opus-writer.js';
import { OPUS_DECODER } from './opus.js';
import { SILK_DECODER } from './silk.js';

export const DECODERS: readonly DecoderFactory[] = [
  G711_DECODER,
  L16_DECODER,
  // codecs.node over Debian's libraries: G.729, G.722, G.726, GSM, Speex, AMR/AMR-WB, iLBC, G.722.1.
  G729, G722, G726, GSM, SPEEX, AMR, ILBC, SIREN,
  OPUS_DECODER, SILK_DECODER,
];

export const WRITERS: readonly WriterFactory[] = [WAV_WRITER, OGG_OPUS_WRITER, MP3_WRITER];
