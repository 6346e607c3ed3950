import type { QuickstartApi } from './api-client.mjs';
export declare const LOCAL_REGION: Readonly<{ id: string; name: string }>;
export declare const DEFAULT_PLANS: ReadonlyArray<{ id: string; name: string; cpuMillicores: number; memoryMb: number; diskMb: number; hourlyPrice: number; currency: string }>;
export declare const DEFAULT_RUNTIMES: ReadonlyArray<{ id: string; kind: string; version: string; baseImage: string }>;
export declare function seedCatalog(api: Pick<QuickstartApi, 'request'>): Promise<{ created: string[]; kept: string[] }>;
