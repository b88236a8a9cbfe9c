// The URL names what the page shows: `#lab=<id>&run=<id>` or `#lab=<id>&compare=<id>,<id>`.
// Each change is a history entry, so Back and Forward step through what the user opened,
// and a link opens the same view (the token lives in the cookie, not in the fragment).
import { useEffect, useState } from 'react';

export interface Route { lab?: string; run?: string; compare?: string[] }

const ID = /^[a-z0-9-]{1,80}$/;

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  if (ID.test(raw)) return { lab: raw }; // the older `#<lab>` form
  const q = new URLSearchParams(raw);
  const lab = q.get('lab') ?? undefined, run = q.get('run') ?? undefined;
  const compare = q.get('compare')?.split(',').filter((x) => ID.test(x));
  return { lab: lab && ID.test(lab) ? lab : undefined, run: run && ID.test(run) ? run : undefined, compare: compare && compare.length > 1 ? compare : undefined };
}

export function formatRoute(r: Route): string {
  const q = new URLSearchParams();
  if (r.lab) q.set('lab', r.lab);
  if (r.compare?.length) q.set('compare', r.compare.join(','));
  else if (r.run) q.set('run', r.run);
  return `#${q.toString().replace(/%2C/g, ',')}`;
}

/** The current route, and a navigate that pushes a history entry (or replaces the current one). */
export function useRoute(): [Route, (r: Route, opts?: { replace?: boolean }) => void] {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(location.hash));
    window.addEventListener('popstate', onPop);
    window.addEventListener('hashchange', onPop);
    return () => { window.removeEventListener('popstate', onPop); window.removeEventListener('hashchange', onPop); };
  }, []);
  const navigate = (r: Route, opts: { replace?: boolean } = {}) => {
    const hash = formatRoute(r);
    if (hash !== location.hash) history[opts.replace ? 'replaceState' : 'pushState'](null, '', hash);
    setRoute(parseRoute(hash));
  };
  return [route, navigate];
}
