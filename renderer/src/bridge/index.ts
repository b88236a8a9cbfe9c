// The renderer talks to whichever host it runs in through one BenchtopApi.
import type { BenchtopApi } from '../../../common/api';
import { websocketBridge } from './websocket';

declare global { interface Window { benchtop?: BenchtopApi } }

export const api: BenchtopApi = window.benchtop ?? websocketBridge();
