/**
 * The dashboard: one page that polls the state API (with the token from its own URL) and shows
 * nodes, resources, actors and recent tasks.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>weft</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}th{background:#f4f4f4}h2{margin-top:1.5em}</style></head>
<body><h1>weft cluster</h1><div id="summary">loading…</div>
<h2>Nodes</h2><table id="nodes"></table><h2>Actors</h2><table id="actors"></table><h2>Recent tasks</h2><table id="tasks"></table>
<script>
const token = new URLSearchParams(location.search).get('token') || '';
const api = (path) => fetch(path, { headers: { authorization: 'Bearer ' + token } }).then((r) => r.json());
const fmt = (r) => Object.entries(r || {}).map(([k, v]) => k + ' ' + (+v).toFixed(1)).join(', ');
function table(id, head, rows) {
  const el = document.getElementById(id);
  el.innerHTML = '<tr>' + head.map((h) => '<th>' + h + '</th>').join('') + '</tr>' +
    rows.map((r) => '<tr>' + r.map((c) => '<td>' + String(c).replace(/</g, '&lt;') + '</td>').join('') + '</tr>').join('');
}
async function refresh() {
  const [status, actors, tasks] = await Promise.all([api('/api/status'), api('/api/actors'), api('/api/tasks')]);
  document.getElementById('summary').textContent = 'CPUs free ' + fmt(status.available) + ' of ' + fmt(status.resources) +
    ' · ' + status.objects + ' objects (' + (status.objectBytes / 1e6).toFixed(1) + ' MB) · ' + status.actors + ' actors';
  table('nodes', ['node', 'address', 'alive', 'resources', 'free', 'running', 'queued'], status.nodes.map((n) =>
    [n.nodeId, n.address, n.alive, fmt(n.resources), fmt(n.available), n.stats ? n.stats.running : '', n.stats ? n.stats.queued : '']));
  table('actors', ['actor', 'class', 'name', 'state', 'node'], actors.map((a) => [a.actorId, a.className, a.name || '', a.state, a.nodeId]));
  table('tasks', ['task', 'name', 'state', 'node', 'ms'], tasks.slice(-50).reverse().map((t) =>
    [t.taskId, t.name, t.state, t.nodeId, t.finishedAt && t.startedAt ? t.finishedAt - t.startedAt : '']));
}
refresh(); setInterval(refresh, 2000);
</script></body></html>
`;
