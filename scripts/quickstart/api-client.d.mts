export interface QuickstartApi {
  baseUrl: string;
  as(token: string): QuickstartApi;
  request<T = unknown>(method: string, path: string, body?: unknown, opts?: { accept?: number[] }): Promise<{ status: number; body: T }>;
}
export declare class ApiError extends Error {
  status: number;
  code: string | undefined;
}
export declare function createApiClient(baseUrl: string, token?: string): QuickstartApi;
export declare function loginAs(baseUrl: string, admin: { email: string; password: string }): Promise<QuickstartApi>;
export declare function listAll(api: QuickstartApi, path: string): Promise<any[]>;
