// Shapes the API answers with (GET /api/v1/openapi.json is the full truth).

export interface Project {
  id: string;
  name: string;
  ownerId: string;
  createdAt: string;
}

export type AppStatus = 'created' | 'deploying' | 'running' | 'failed' | 'stopped' | 'deleting' | 'deleted';
/** How a private repository is reached; the API names a stored credential, never shows it. */
export type GitAuth = { type: 'token'; username: string } | { type: 'deploy-key'; fingerprint: string };
export type AppSource = { type: 'image'; image: string } | { type: 'git'; url: string; branch?: string; auth?: GitAuth };

/** GET /apps/:id/deploy-key: the public half only. */
export interface DeployKey {
  publicKey: string;
  fingerprint: string;
  createdAt: string;
  knownHosts: string[];
}

export interface App {
  id: string;
  projectId: string;
  name: string;
  status: AppStatus;
  hostname: string;
  region: string;
  planId: string;
  replicas: number;
  port: number;
  source: AppSource;
  currentRelease: number | null;
  createdAt: string;
  updatedAt: string;
}

export type DeployStatus = 'queued' | 'building' | 'releasing' | 'succeeded' | 'failed' | 'cancelled';
export interface Deploy {
  id: string;
  appId: string;
  kind: 'deploy' | 'rollback' | 'restart' | 'config';
  status: DeployStatus;
  commitSha?: string;
  releaseNumber?: number;
  error?: { code: string; message: string };
  phases: { name: string; startedAt: string; endedAt: string | null }[];
  createdAt: string;
  finishedAt: string | null;
}

export const DEPLOY_ENDED: readonly DeployStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface Release {
  number: number;
  image: string;
  commitSha: string | null;
  createdAt: string;
  current: boolean;
}

export interface Instance {
  id: string;
  nodeId: string;
  status: string;
  release: number | null;
  startedAt: string | null;
  restarts: number;
  cpuPercent: number | null;
  memoryMb: number | null;
  upstream: string | null;
  message: string | null;
  reportedAt: string | null;
}

export interface EnvVar {
  key: string;
  secret: boolean;
  value?: string;
}

export interface Domain {
  id: string;
  appId: string;
  hostname: string;
  status: 'pending-verification' | 'verified';
  verification: { type: 'dns-txt'; name: string; value: string };
  verifiedAt: string | null;
  createdAt: string;
  tls?: { status: 'pending' | 'issued' | 'failed'; notAfter?: string; error?: string };
}

export interface Webhook {
  url: string;
  urls: Record<'github' | 'gitlab' | 'gitea' | 'generic', string>;
  secretHint?: string;
  secret?: string;
}

export interface AppMetrics {
  since: string;
  points: { at: string; instances: number; cpuPercent: number; memoryMb: number; netRxBytes: number; netTxBytes: number }[];
}

export interface Region {
  id: string;
  name: string;
}

export interface Plan {
  id: string;
  name: string;
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  hourlyPrice: number;
  currency: string;
  active?: boolean;
}

export interface Runtime {
  id: string;
  kind: 'node' | 'python' | 'go' | 'php' | 'static';
  version: string;
  baseImage: string;
  buildCommand: string | null;
  startCommand: string | null;
}

export interface Resources {
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
}

export type NodeStatus = 'online' | 'suspect' | 'offline' | 'draining' | 'disabled';
export interface NodeView {
  id: string;
  name: string;
  region: string;
  labels: string[];
  status: NodeStatus;
  liveness: 'online' | 'suspect' | 'offline';
  degraded: boolean;
  capacity: Resources;
  allocated: Resources;
  usage: { cpuPercent: number; memoryMb: number; diskMb: number };
  containerCount: number;
  lastHeartbeatAt: string | null;
  agentVersion: string | null;
  facts: Record<string, unknown>;
  createdAt: string;
}

export interface NodeMetric {
  at: string;
  cpuPercent: number;
  memoryUsedMb: number;
  diskUsedMb: number;
  load1: number | null;
  netRxBytes: number | null;
  netTxBytes: number | null;
  containerCount: number;
}

export interface RegionCapacity {
  region: string;
  nodes: Record<string, number>;
  total: Resources;
  allocated: Resources;
  used: Resources;
}

export interface NodeToken {
  token: string;
  expiresAt: string;
  installCommand: string;
}

export interface Wallet {
  balance: number;
  currency: string;
  status: 'active' | 'low' | 'suspended';
}

export interface Transaction {
  id: string;
  type: 'topup' | 'charge' | 'refund' | 'adjustment';
  amount: number;
  balanceAfter: number;
  currency: string;
  createdAt: string;
  appId?: string;
  period?: string;
  note?: string;
}

export interface Usage {
  items: { appId: string; hours: number; amount: number }[];
  total: number;
  currency: string;
}

/** GET /admin/users (not in API.md: the customers page's list) */
export interface AdminUser {
  id: string;
  email: string;
  role: 'admin' | 'customer';
  tier: string;
  createdAt: string;
  balance: number;
  currency: string;
}

/** GET /admin/audit */
export interface AuditEntry {
  id: string;
  at: string;
  actor: { type: 'user' | 'api-token' | 'node' | 'system' | 'anonymous'; id: string | null; email: string | null };
  action: string;
  target: string | null;
  ip: string | null;
  status: number | null;
}
