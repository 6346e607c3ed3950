// Frames that carry output nothing redelivers (task progress: build log lines) are held while the
// agent has no session, and sent in order right after the next welcome. Everything else sent
// without a session is dropped as before: task results are answered again from the journal when
// the control plane redelivers the task, heartbeats and acks are sent afresh. Bounded: past
// `max` frames the oldest go first (the end of a build log is what explains it).
import type { Frame } from '@karvon/protocol';

export const MAX_HELD_FRAMES = 128;

export interface HeldFrames {
  /** keeps `frame` if it is worth holding; false when it was dropped */
  hold(frame: Frame): boolean;
  /** the held frames, oldest first, and an empty hold */
  take(): Frame[];
}

export function createHeldFrames(max = MAX_HELD_FRAMES): HeldFrames {
  let held: Frame[] = [];
  return {
    hold(frame) {
      if (frame.type !== 'task-progress') return false;
      held.push(frame);
      if (held.length > max) held.shift();
      return true;
    },
    take() {
      const out = held;
      held = [];
      return out;
    },
  };
}
