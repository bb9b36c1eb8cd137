import type { PayloadMapping } from '../calls/call.js';
import { ConfigError, defaultConfig, loadConfig, type RecorderConfig } from '../ops/config.js';
import { parsePayloadMapping } from '../rtp/payload-types.js';
import { fail } from './errors.js';

/** The config file given (or the defaults); a bad one ends the command with its one-line error. */
export function loadCliConfig(path: string | undefined): RecorderConfig {
  try {
    return path ? loadConfig(path) : defaultConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`recorder: ${err.message}`);
    throw err;
  }
}

/** `recording.payloadTypes` of the config as payload mappings (validated at load time). */
export function configPayloadMappings(config: RecorderConfig): Map<number, PayloadMapping> {
  const out = new Map<number, PayloadMapping>();
  for (const [pt, text] of Object.entries(config.recording.payloadTypes)) out.set(Number(pt), parsePayloadMapping(`${pt}=${text}`));
  return out;
}
