// The preload exposes window.benchtop (BenchtopApi) and nothing else. The main process
// validates every call's sender and payload.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { BenchtopApi, RunUpdate } from '../../common/api';

const call = (method: string, ...args: unknown[]) => ipcRenderer.invoke('benchtop:call', method, args) as Promise<never>;

const api: BenchtopApi = {
  listLabs: () => call('listLabs'),
  startRun: (req) => call('startRun', req),
  cancelRun: (id) => call('cancelRun', id),
  listRuns: (lab) => call('listRuns', lab),
  getRun: (id) => call('getRun', id),
  deleteRun: (id) => call('deleteRun', id),
  query: (id, name, args) => call('query', id, name, args),
  readArtifact: (id, name) => call('readArtifact', id, name),
  hostInfo: () => call('hostInfo'),
  onRunUpdate(listener) {
    const handler = (_e: IpcRendererEvent, u: RunUpdate) => listener(u);
    ipcRenderer.on('benchtop:update', handler);
    return () => { ipcRenderer.removeListener('benchtop:update', handler); };
  },
};

contextBridge.exposeInMainWorld('benchtop', api);
