/**
 * What the user does on the station (station → CM), packet-skinny.c handlers of the same names:
 *
 *  KeypadButtonMessage 0x0003: kpButton u32, [lineInstance u32, callReference u32]
 *     (0-9 digits, 10-13 A-D, 14 '*', 15 '#', 16 '+')
 *  SoftKeyEventMessage 0x0026: softKeyEvent u32, lineInstance u32, callReference u32
 *  StimulusMessage 0x0005:     stimulus u32, lineInstance u32, callReference u32, stimulusStatus u32
 *  OffHook 0x0006 / OnHook 0x0007: [lineInstance u32, callReference u32]
 */
import { Status } from '../core/status.js';
import { le32 as le32At } from './header.js';
import type { SkinnyMessage } from './message.js';

/** SoftKeyEvent values the tracker acts on (tshark 4.0 `skinny.softKeyEvent`). */
export const SoftKey = { Hold: 3, Transfer: 4, EndCall: 9, Resume: 10, Answer: 11, Confrn: 13, Join: 15, DirTrfr: 77 } as const;
/** Stimulus values the tracker acts on (tshark 4.0 `skinny.stimulus`). */
export const StimulusValue = { Hold: 3, Transfer: 4, Conference: 125 } as const;

const KEYS = '0123456789ABCD*#+';

/** The character of a KeypadButton value, '' when out of range. */
export const keypadDigit = (button: number): string => (button < KEYS.length ? KEYS[button]! : '');

export function decodeKeypadButton(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < 4) return Status.Truncated;
  out.button = le32At(buf, off);
  if (len >= 12) {
    out.lineInstance = le32At(buf, off + 4);
    out.callRef = le32At(buf, off + 8);
    out.hasCallRef = out.callRef !== 0;
  }
  return Status.Ok;
}

/** SoftKeyEvent has KeypadButton's layout: the event code, then line instance and call reference. */
export const decodeSoftKeyEvent = decodeKeypadButton;

export function decodeStimulus(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < 8) return Status.Truncated;
  out.button = le32At(buf, off);
  out.lineInstance = le32At(buf, off + 4);
  if (len >= 12) {
    out.callRef = le32At(buf, off + 8);
    out.hasCallRef = out.callRef !== 0;
  }
  return Status.Ok;
}

export function decodeHookMessage(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len >= 8) {
    out.lineInstance = le32At(buf, off);
    out.callRef = le32At(buf, off + 4);
    out.hasCallRef = out.callRef !== 0;
  }
  return Status.Ok;
}
