/**
 * Station registration and lines (packet-skinny.c handlers of the same names):
 *
 *  RegisterMessage 0x0001 (station → CM), the first 36 bytes of every version:
 *    0  DeviceName[16]   (NUL-padded, e.g. "SEP001122334455")
 *   16  reserved u32, instance u32
 *   24  stationIpAddr    (IPv4, network order)
 *   28  deviceType u32
 *   32  maxStreams u32   (later versions append protocol version, features, MAC, IPv6 …)
 *
 *  LineStatMessage 0x0092 (CM → station):
 *    0  lineNumber u32, 4 lineDirNumber[24], 28 lineFullyQualifiedDisplayName[40], 68 lineTextLabel[40]
 *
 *  LineStatV2Message 0x0147: lineNumber u32, lineType u32, then NUL-terminated lineDirNumber,
 *  lineFullyQualifiedDisplayName, lineTextLabel.
 */
import { formatIpv4 } from '../core/address.js';
import { Status } from '../core/status.js';
import { fixedString, nulString } from './fields.js';
import { le32 as le32At } from './header.js';
import type { SkinnyMessage } from './message.js';

const REGISTER_MIN = 32;

export function decodeRegister(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < REGISTER_MIN) return Status.Truncated;
  out.deviceName = fixedString(buf, off, 16);
  out.lineInstance = le32At(buf, off + 20);
  const ip = ((buf[off + 24]! << 24) | (buf[off + 25]! << 16) | (buf[off + 26]! << 8) | buf[off + 27]!) >>> 0;
  out.stationIp = ip === 0 ? '' : formatIpv4(ip);
  out.deviceType = le32At(buf, off + 28);
  return out.deviceName === '' ? Status.Malformed : Status.Ok;
}

const LINESTAT_MIN = 4 + 24 + 40;

export function decodeLineStat(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < LINESTAT_MIN) return Status.Truncated;
  out.lineNumber = le32At(buf, off);
  out.lineDirNumber = fixedString(buf, off + 4, 24);
  out.lineDisplayName = fixedString(buf, off + 28, 40);
  return Status.Ok;
}

const next = { next: 0 };

export function decodeLineStatV2(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < 8) return Status.Truncated;
  const end = off + len;
  out.lineNumber = le32At(buf, off);
  out.lineDirNumber = nulString(buf, off + 8, end, next);
  out.lineDisplayName = nulString(buf, next.next, end, next);
  return Status.Ok;
}
