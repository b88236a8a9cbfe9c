// Whether a panel's query widgets (draw pad, inspect, generate, compress) can reach the run's
// model: yes in the app, no in a static HTML report, where they are shown disabled.
import { createContext, useContext } from 'react';

export const PanelInteractive = createContext(true);
export const useInteractive = () => useContext(PanelInteractive);
/** What a disabled query widget says, in one place. */
export const STATIC_NOTE = 'a static report: open the run in Benchtop (or import its archive) to query its model';
