// A builder's answer moves its deploy on at once instead of at the deploy engine's next poll: the
// hub's events are wrapped so that a task result that looks like a build's end (an image, or a
// final build failure) calls `onBuildEnded` — after the dispatcher has written it (the caller
// waits for that), since the engine reads the result from the task row, never from the frame.
import type { FrameToControlPlane } from '@karvon/protocol';
import type { HubEvents } from '../hub/agent-hub';
import { buildResultSchema, FINAL_BUILD_CODES } from './build-stage';

/** Pure: whether `frame` may end a build (a hint: the deploy engine decides from the database). */
export function endsBuild(frame: FrameToControlPlane): boolean {
  if (frame.type !== 'task-result') return false;
  const r = frame.payload;
  return r.status === 'succeeded' ? buildResultSchema.safeParse(r.result).success : FINAL_BUILD_CODES.has(r.error.code);
}

/** The hub's events, with `onBuildEnded` called for each frame that may end a build. */
export function withBuildResults(events: HubEvents, onBuildEnded: () => void): HubEvents {
  return {
    sessionReady: (nodeId) => events.sessionReady(nodeId),
    sessionEnded: (nodeId) => events.sessionEnded(nodeId),
    onAgentFrame(nodeId, frame) {
      events.onAgentFrame(nodeId, frame);
      if (endsBuild(frame)) onBuildEnded();
    },
  };
}
