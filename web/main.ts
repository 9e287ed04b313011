/** The workbench page: four views behind a hash route, each started once. */
import { initAdapter } from './adapter.ts';
import { initTrain } from './train.ts';
import { initConnectome } from './connectome3d.ts';
import { initResults } from './results.ts';

const VIEWS = ['adapter', 'train', 'connectome', 'results'] as const;
type View = (typeof VIEWS)[number];
let redraw3d: () => void = () => {};

function route(): void {
  const want = location.hash.slice(1) as View;
  const view: View = VIEWS.includes(want) ? want : 'train';
  for (const v of VIEWS) {
    document.getElementById(`view-${v}`)!.classList.toggle('active', v === view);
    document.querySelector(`nav a[data-view="${v}"]`)!.classList.toggle('active', v === view);
  }
  if (view === 'connectome') requestAnimationFrame(() => redraw3d());
}

window.addEventListener('hashchange', route);
route();
const ready = Promise.all([
  initAdapter(),
  initTrain(),
  initConnectome(() => location.hash === '#connectome').then((c) => {
    redraw3d = c.draw;
    window.workbench.frameStats = c.frameStats;
  }),
  initResults(),
]);
ready
  .catch((e) => console.error(e))
  .finally(() => {
    document.body.dataset.ready = '1';
    route();
  });
