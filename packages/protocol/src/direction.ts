/**
 * Which way a frame travels. Named for the receiver, because the receiver is the one that parses:
 * the agent parses `to-agent` frames, the hub parses `to-control-plane` frames.
 */
export const FRAME_DIRECTIONS = ['to-agent', 'to-control-plane'] as const;

export type FrameDirection = (typeof FRAME_DIRECTIONS)[number];
