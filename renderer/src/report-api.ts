// The report's BenchtopApi: no host behind it. Imported first by report.tsx, so the panels'
// bridge finds it instead of opening a WebSocket the report's CSP would refuse.
import type { BenchtopApi } from '../../common/api';
import { STATIC_NOTE } from './panels/interactive';

const refuse = async (): Promise<never> => { throw new Error(`not available in ${STATIC_NOTE}`); };
const reportApi: BenchtopApi = {
  listLabs: refuse, startRun: refuse, cancelRun: refuse, listRuns: refuse, getRun: refuse, deleteRun: refuse, annotateRun: refuse,
  startSweep: refuse, exportRun: refuse, importRunChunk: refuse, openRunFolder: refuse, query: refuse, readArtifact: refuse, writeReport: refuse, hostInfo: refuse,
  onRunUpdate: () => () => {},
};
window.benchtop = reportApi;
