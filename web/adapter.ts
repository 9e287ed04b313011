/** The adapter panel: `cortical-rnn info` of the browser's adapter, and the kernel self-checks. */
import { adapterReport, CpuBackend, kernelSelfCheck } from '../engine/index.ts';
import { gpuBackend } from './state.ts';
import { $, el } from './dom.ts';

export async function initAdapter(): Promise<void> {
  const info = $('#adapter-info');
  const line = $('#adapter-line');
  const button = $<HTMLButtonElement>('#run-checks');
  try {
    const b = await gpuBackend();
    const r = adapterReport(b);
    line.textContent = `${b.ctx.describe()} · ${b.matmulKernel} tiles`;
    info.replaceChildren(
      el('table', { className: 'grid', id: 'adapter-table' }, [
        ...r.rows.map(([k, v]) => el('tr', {}, [el('th', { textContent: k }), el('td', { textContent: v, style: 'text-align:left' })])),
      ]),
      el('details', {}, [
        el('summary', { textContent: 'limits' }),
        el(
          'table',
          { className: 'grid' },
          r.limits.map(([k, v]) => el('tr', {}, [el('th', { textContent: k }), el('td', { textContent: v })])),
        ),
      ]),
    );
    info.dataset.ready = '1';
    button.disabled = false;
  } catch (e) {
    line.textContent = 'no WebGPU adapter';
    info.replaceChildren(el('p', { className: 'bad', id: 'no-webgpu', textContent: (e as Error).message }));
    info.dataset.ready = '0';
    return;
  }
  button.onclick = async () => {
    button.disabled = true;
    const table = $('#checks');
    table.replaceChildren(
      el('tr', {}, [
        el('th', { textContent: 'kernel family' }),
        el('th', { textContent: 'error' }),
        el('th', { textContent: 'tolerance' }),
        el('th', { textContent: '' }),
      ]),
    );
    delete table.dataset.done;
    try {
      const results = await kernelSelfCheck(await gpuBackend(), new CpuBackend('f64'), (r) => {
        table.append(
          el('tr', {}, [
            el('th', { textContent: r.name }),
            el('td', { textContent: r.error.toExponential(2) }),
            el('td', { textContent: r.tolerance.toExponential(0) }),
            el('td', { textContent: r.pass ? 'pass' : 'FAIL', className: r.pass ? 'good' : 'bad' }),
          ]),
        );
      });
      table.dataset.done = results.every((r) => r.pass) ? 'pass' : 'fail';
    } catch (e) {
      table.append(el('tr', {}, [el('td', { className: 'bad', textContent: (e as Error).message })]));
      table.dataset.done = 'error';
    }
    button.disabled = false;
  };
}
