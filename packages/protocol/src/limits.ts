import type { FrameDirection } from './direction';

const MiB = 1024 * 1024;

/**
 * Largest frame, in UTF-8 bytes, each side accepts. Checked before JSON.parse so an oversized frame
 * costs a length comparison, not a parse. The control plane sends full desired-state snapshots
 * (every allocation, route and certificate of a node), so frames to the agent may be larger; an
 * agent is the less trusted peer (it runs tenant code), so what it may send to the hub is smaller.
 * The hub's `ws` server should use the `to-control-plane` value as its `maxPayload`.
 */
export const MAX_FRAME_BYTES: Readonly<Record<FrameDirection, number>> = Object.freeze({
  'to-agent': 16 * MiB,
  'to-control-plane': 4 * MiB,
});

/** Deepest nesting of objects and arrays in a frame (the envelope counts as level 1). */
export const MAX_JSON_DEPTH = 32;

/** Serialized size of a task-result `result`, in UTF-16 code units of its JSON text. */
export const MAX_TASK_RESULT_CHARS = 64 * 1024;

/** Per-line and per-frame bounds for streamed output (task progress and log chunks). */
export const MAX_LINE_CHARS = 8 * 1024;
export const MAX_LINES_PER_FRAME = 256;

/**
 * Log-chunk frames of one stream-logs task an agent may have sent beyond the last `log-credit`
 * (the control plane credits as its consumer reads). Agent-side buffering per stream is bounded by
 * this many chunks of at most MAX_LINES_PER_FRAME lines.
 */
export const LOG_STREAM_WINDOW_CHUNKS = 8;

/** Free-text messages (error frames, allocation messages). */
export const MAX_MESSAGE_CHARS = 2048;
