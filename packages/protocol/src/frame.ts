// The union of every frame, the name → payload map, and who may send what.
import { z } from 'zod';
import type { FrameDirection } from './direction';
import { desiredStateAckPayloadSchema } from './frames/desired-state-ack';
import { desiredStatePayloadSchema } from './frames/desired-state';
import { errorPayloadSchema } from './frames/error';
import { heartbeatPayloadSchema } from './frames/heartbeat';
import { helloPayloadSchema } from './frames/hello';
import { logChunkPayloadSchema } from './frames/log-chunk';
import { logCreditPayloadSchema } from './frames/log-credit';
import { taskAckPayloadSchema } from './frames/task-ack';
import { taskCancelPayloadSchema } from './frames/task-cancel';
import { taskProgressPayloadSchema } from './frames/task-progress';
import { taskResultPayloadSchema } from './frames/task-result';
import { taskPayloadSchema } from './frames/task';
import { tokenRefreshPayloadSchema, tokenRefreshRequestPayloadSchema } from './frames/token-refresh';
import { welcomePayloadSchema } from './frames/welcome';

export const framePayloadSchemas = {
  hello: helloPayloadSchema,
  welcome: welcomePayloadSchema,
  heartbeat: heartbeatPayloadSchema,
  'desired-state': desiredStatePayloadSchema,
  'desired-state-ack': desiredStateAckPayloadSchema,
  task: taskPayloadSchema,
  'task-ack': taskAckPayloadSchema,
  'task-progress': taskProgressPayloadSchema,
  'task-result': taskResultPayloadSchema,
  'log-chunk': logChunkPayloadSchema,
  'log-credit': logCreditPayloadSchema,
  'task-cancel': taskCancelPayloadSchema,
  error: errorPayloadSchema,
  'token-refresh-request': tokenRefreshRequestPayloadSchema,
  'token-refresh': tokenRefreshPayloadSchema,
} as const;

export type FrameType = keyof typeof framePayloadSchemas;
export const FRAME_TYPES = Object.freeze(Object.keys(framePayloadSchemas)) as readonly FrameType[];

/** frame type → payload type. */
export type FramePayloadMap = { [K in FrameType]: z.infer<(typeof framePayloadSchemas)[K]> };

const CP = 'to-control-plane';
const AGENT = 'to-agent';

/** Where each frame type may travel; parseFrame refuses one going the other way (UNEXPECTED_FRAME). */
export const FRAME_ROUTES = Object.freeze({
  hello: [CP],
  welcome: [AGENT],
  heartbeat: [CP],
  'desired-state': [AGENT],
  'desired-state-ack': [CP],
  task: [AGENT],
  'task-ack': [CP],
  'task-progress': [CP],
  'task-result': [CP],
  'log-chunk': [CP],
  'log-credit': [AGENT],
  'task-cancel': [AGENT],
  error: [AGENT, CP],
  'token-refresh-request': [CP],
  'token-refresh': [AGENT],
} as const satisfies Record<FrameType, readonly FrameDirection[]>);

/** The frame types that may travel in direction D. */
export type FrameTypeTo<D extends FrameDirection> = {
  [K in FrameType]: D extends (typeof FRAME_ROUTES)[K][number] ? K : never;
}[FrameType];

export function isFrameType(value: unknown): value is FrameType {
  return typeof value === 'string' && Object.hasOwn(framePayloadSchemas, value);
}

export function mayTravel(type: FrameType, direction: FrameDirection): boolean {
  return (FRAME_ROUTES[type] as readonly FrameDirection[]).includes(direction);
}

/**
 * Optional, sender-chosen frame id. Nothing requires it; when a frame causes an error, the error
 * frame names it with `refType: 'frame'`, which is the point of setting one.
 */
export const frameIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a frame id: letters, digits, . _ : - (up to 64)');

function envelope<K extends FrameType, P extends (typeof framePayloadSchemas)[K]>(type: K, payload: P) {
  return z.object({ type: z.literal(type), id: frameIdSchema.optional(), payload });
}

/** frame type → schema of the whole frame `{ type, id?, payload }`. */
export const frameSchemas = {
  hello: envelope('hello', helloPayloadSchema),
  welcome: envelope('welcome', welcomePayloadSchema),
  heartbeat: envelope('heartbeat', heartbeatPayloadSchema),
  'desired-state': envelope('desired-state', desiredStatePayloadSchema),
  'desired-state-ack': envelope('desired-state-ack', desiredStateAckPayloadSchema),
  task: envelope('task', taskPayloadSchema),
  'task-ack': envelope('task-ack', taskAckPayloadSchema),
  'task-progress': envelope('task-progress', taskProgressPayloadSchema),
  'task-result': envelope('task-result', taskResultPayloadSchema),
  'log-chunk': envelope('log-chunk', logChunkPayloadSchema),
  'log-credit': envelope('log-credit', logCreditPayloadSchema),
  'task-cancel': envelope('task-cancel', taskCancelPayloadSchema),
  error: envelope('error', errorPayloadSchema),
  'token-refresh-request': envelope('token-refresh-request', tokenRefreshRequestPayloadSchema),
  'token-refresh': envelope('token-refresh', tokenRefreshPayloadSchema),
} as const satisfies { [K in FrameType]: z.ZodType };

/** Every frame, discriminated on `type`. parseFrame uses frameSchemas to give sharper errors. */
export const frameSchema = z.discriminatedUnion('type', [
  frameSchemas.hello,
  frameSchemas.welcome,
  frameSchemas.heartbeat,
  frameSchemas['desired-state'],
  frameSchemas['desired-state-ack'],
  frameSchemas.task,
  frameSchemas['task-ack'],
  frameSchemas['task-progress'],
  frameSchemas['task-result'],
  frameSchemas['log-chunk'],
  frameSchemas['log-credit'],
  frameSchemas['task-cancel'],
  frameSchemas.error,
  frameSchemas['token-refresh-request'],
  frameSchemas['token-refresh'],
]);

/** A frame of type K (or, with no argument, any frame), discriminated on `type`. */
export type Frame<K extends FrameType = FrameType> = {
  [P in K]: { type: P; id?: string; payload: FramePayloadMap[P] };
}[K];

export type FrameToAgent = Frame<FrameTypeTo<'to-agent'>>;
export type FrameToControlPlane = Frame<FrameTypeTo<'to-control-plane'>>;

/** Builds a frame with a payload typed for its type. It does not validate; encodeFrame does. */
export function frame<K extends FrameType>(type: K, payload: FramePayloadMap[K], id?: string): Frame<K> {
  return id === undefined ? { type, payload } : { type, id, payload };
}
