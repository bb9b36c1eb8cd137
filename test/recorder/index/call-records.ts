import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { newCallId } from '../../../recorder/index/call-index.js';

/** A plausible finished SIP call starting at `start`, for index and `recorder calls` tests. */
export function makeRecord(start: string, seq: number, over: Partial<CallRecord> = {}): CallRecord {
  return {
    id: newCallId(start, seq),
    protocol: 'sip',
    callId: `cid-${seq}@pbx`,
    from: { uri: 'sip:1001@pbx', number: '1001', name: 'Alice' },
    to: { uri: 'sip:+15551234567@pbx', number: '+1 555-123-4567', name: '' },
    user: 'alice',
    direction: 'outbound',
    start,
    answer: null,
    end: start,
    endReason: 'bye',
    status: 200,
    streams: [],
    dtmf: [],
    notes: [],
    recording: null,
    ...over,
  };
}
