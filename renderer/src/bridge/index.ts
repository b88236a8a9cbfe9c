// The renderer talks to whichever host it runs in through one BenchtopApi.
import type { BenchtopApi } from '../../../common/api';
import { onWebsocketConnection, websocketBridge } from './websocket';

declare global { interface Window { benchtop?: BenchtopApi } }

export const api: BenchtopApi = window.benchtop ?? websocketBridge();

/** Connection to the host lost (false) or back (true); Electron's IPC never drops. */
export const onConnectionChange: (listener: (connected: boolean) => void) => () => void =
  window.benchtop ? () => () => {} : onWebsocketConnection;
