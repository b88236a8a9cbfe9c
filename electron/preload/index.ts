// The preload exposes window.benchtop (BenchtopApi) and nothing else. The main process
// validates every call's sender and payload.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { BenchtopApi, RunUpdate } from '../../common/api';
import { bridgeApi } from '../../common/api-methods';

const api: BenchtopApi = bridgeApi(
  (method, args) => ipcRenderer.invoke('benchtop:call', method, args),
  (listener) => {
    const handler = (_e: IpcRendererEvent, u: RunUpdate) => listener(u);
    ipcRenderer.on('benchtop:update', handler);
    return () => { ipcRenderer.removeListener('benchtop:update', handler); };
  },
);

contextBridge.exposeInMainWorld('benchtop', api);
