/**
 * G.722.1 (Siren 7; RTP payload RFC 5577, 16 kHz) through libavcodec's "siren" decoder, linked
 * into codecs.node (Debian 12 has no other G.722.1 decoder).
 *
 * libavcodec's "siren" decoder reads the G.722.1 bit stream: 14 regions of 20 MLT coefficients,
 * 4 categorisation bits, no sample-rate or checksum bits (MSN's variant, its "msnsiren"
 * decoder, has those), MSB first, with the bit budget taken from the frame size, so both rates
 * work: `bitrate=24000` (60-octet frames) and `bitrate=32000` (80 octets), 20 ms each. A payload
 * is a whole number of frames (RFC 5577 §3); its length decides the rate when only one fits,
 * the fmtp otherwise. `G7221/32000` (Annex C, Siren 14, 28 regions) is not supported by
 * libavcodec: create() returns null. `SIREN` is taken as the same bit stream.
 *
 * No loss concealment is offered (lost packets stay silence).
 */
import { FrameSizeDecoder, codecsAddonOrNull, fmtpParam } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

const FRAME_OCTETS: readonly [number, number] = [60, 80];

export const SIREN: DecoderFactory = {
  names: ['g7221', 'siren'],
  create(_codec, clockRate, channels, fmtp): AudioDecoder | null {
    if (clockRate !== 16000 || channels !== 1) return null;
    const bitrate = fmtpParam(fmtp, 'bitrate');
    if (bitrate !== undefined && bitrate !== '24000' && bitrate !== '32000') return null;
    const addon = codecsAddonOrNull();
    const first = addon?.open('siren', 60, 0) ?? null;
    if (addon === null || first === null) return null;
    addon.close(first);
    const preferred = bitrate === '32000' ? 1 : 0;
    return new FrameSizeDecoder(16000, addon, FRAME_OCTETS, preferred, (k) => addon.open('siren', FRAME_OCTETS[k], 0));
  },
};
