// Labs used only by the bench: one stamps each event with its wall time (relay latency),
// one waits in a cooperative loop (cancel latency).
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const spec = (id) => ({ id, title: id, paper: { title: id, arxiv: '-' }, summary: '', metrics: [], checks: [], defaultTime: '' });
module.exports = {
  stamp: { lab: { spec: spec('bench-stamp'), async run(p, ctx) { for (let i = 0; i < 200; i++) { ctx.metric(i, 'sentAt', Date.now()); await sleep(10); } return { metrics: {}, checks: {} }; } } },
  loop: { lab: { spec: spec('bench-loop'), async run(p, ctx) { for (let i = 0; ; i++) { ctx.throwIfCancelled(); ctx.metric(i, 'x', i); await sleep(20); } } } },
};
