// The API's method table, declared once. The Electron preload and the WebSocket bridge both
// build their BenchtopApi from it, and the hosts validate each method's arguments with the
// schema `API_METHODS` (common/api.ts) keeps under the same names. No zod here: the
// sandboxed preload bundles this file.
import type { BenchtopApi } from './api';

export const API_METHOD_NAMES = [
  'listLabs', 'startRun', 'cancelRun', 'listRuns', 'getRun', 'deleteRun', 'annotateRun', 'startSweep',
  'exportRun', 'importRunChunk', 'openRunFolder', 'query', 'readArtifact', 'writeReport', 'hostInfo',
] as const;
export type ApiMethod = (typeof API_METHOD_NAMES)[number];

/** Every BenchtopApi method but the update subscription is a call by name. */
type CallMethods = Omit<BenchtopApi, 'onRunUpdate'>;
// Compile-time: the table and the interface name the same methods.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const tableMatchesInterface: Same<ApiMethod, keyof CallMethods> = true;
void tableMatchesInterface;

/** A BenchtopApi whose calls all go through `call(method, args)`. */
export function bridgeApi(call: (method: ApiMethod, args: unknown[]) => Promise<unknown>, onRunUpdate: BenchtopApi['onRunUpdate']): BenchtopApi {
  const methods = Object.fromEntries(API_METHOD_NAMES.map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as CallMethods;
  return { ...methods, onRunUpdate };
}
