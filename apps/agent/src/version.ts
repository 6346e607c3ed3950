/** Reported in hello and at registration; bumped with each agent release. */
export const AGENT_VERSION = '0.1.0';
