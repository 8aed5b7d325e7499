#!/usr/bin/env node
// Serves the LuCI status page of luci-app-x0tta6bl4 outside a router: a page with a SHIM of
// the LuCI JS runtime (scripts/luci-preview-shim.js: view, rpc, poll, ui, dom, E, _, written to
// behave as luci-base 24.10 does), the real view file, and an rpcd + uhttpd stand-in that checks
// the real ACL file and runs the real rpcd exec plugin against a running agent's status socket,
// answering as rpcd and uhttpd do (the status codes and JSON-RPC errors are read from their
// sources). Used by the LuCI tests (headless Chromium) and by the demo (`npm start`).
//
//   node scripts/luci-preview.mjs [--socket /var/run/x0tta6bl4/status.sock] [--port 8080]
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const APP = new URL('../openwrt/luci-app-x0tta6bl4/', import.meta.url).pathname;
export const VIEW_FILE = join(APP, 'htdocs/luci-static/resources/view/x0tta6bl4/status.js');
export const PLUGIN_FILE = join(APP, 'root/usr/libexec/rpcd/luci.x0tta6bl4');
export const ACL_FILE = join(APP, 'root/usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json');
export const MENU_FILE = join(APP, 'root/usr/share/luci/menu.d/luci-app-x0tta6bl4.json');
const SHIM_FILE = new URL('./luci-preview-shim.js', import.meta.url).pathname;

// ubus status codes (libubus.h) as rpcd's exec plugin support answers them (rpcd plugin.c, exec.c).
const UBUS_INVALID_ARGUMENT = 2;
const UBUS_METHOD_NOT_FOUND = 3;
const UBUS_NOT_FOUND = 4;
const UBUS_NO_DATA = 5;
const UBUS_PERMISSION_DENIED = 6;
// rpcd's default exec timeout (-t), uhttpd's default script timeout (-t).
const RPCD_EXEC_TIMEOUT_MS = 120_000;
const UHTTPD_SCRIPT_TIMEOUT_MS = 60_000;
// uhttpd ubus.c json_errors.
const RPC_OBJECT_NOT_FOUND = { code: -32000, message: 'Object not found' };
const RPC_ACCESS_DENIED = { code: -32002, message: 'Access denied' };
const RPC_TIMEOUT = { code: -32003, message: 'ubus request timed out' };

export class LuciPreviewError extends Error {
  name = 'LuciPreviewError';
}

/** The ubus methods the ACL grants for reading, as { object: [methods] }. */
export function readAclGrants(aclFile = ACL_FILE) {
  let acl;
  try {
    acl = JSON.parse(readFileSync(aclFile, 'utf8'));
  } catch (e) {
    throw new LuciPreviewError(`cannot read ACL ${aclFile}: ${e.message}`);
  }
  const grants = {};
  for (const role of Object.values(acl)) {
    for (const [obj, methods] of Object.entries(role?.read?.ubus ?? {})) {
      if (!Array.isArray(methods)) throw new LuciPreviewError(`ACL ${aclFile}: read.ubus.${obj} must be a list`);
      grants[obj] = [...(grants[obj] ?? []), ...methods];
    }
  }
  return grants;
}

/** Runs the plugin the way rpcd's exec plugin support does: argv, JSON on stdin, JSON on stdout. */
export function runPlugin(pluginPath, args, { stdin = '', env = {}, timeoutMs = RPCD_EXEC_TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    const child = spawn(pluginPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: out, stderr: String(e.message), timedOut, spawnError: e.code });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr: err, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

// The plugin file has no extension: inside this repository (package.json "type": "module")
// Node would refuse it, on the router it is plain CommonJS. So it runs from a copy outside
// the repository, as it would from /usr/libexec/rpcd.
function installPluginCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'x0tta6bl4-rpcd-'));
  const path = join(dir, 'luci.x0tta6bl4');
  copyFileSync(PLUGIN_FILE, path);
  chmodSync(path, 0o755);
  return { dir, path };
}

// The page around the view, standing in for the bootstrap theme: its colour variables (own
// values, same names), its `label` classes, and data-darkmode set from prefers-color-scheme
// as the theme's header does, so the view's colours can be checked in both modes.
const PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>x0tta6bl4 – LuCI preview</title>
<link rel="icon" href="data:,">
<script>
var mq = window.matchMedia('(prefers-color-scheme: dark)');
var setDark = function(m) { document.documentElement.setAttribute('data-darkmode', m.matches); };
mq.addEventListener('change', setDark); setDark(mq);
</script>
<style>
:root { --background-color-high: #fff; --background-color-low: #f0f0f0; --text-color-high: #222; --text-color-medium: #666;
  --border-color-low: #e5e5e5; --primary-color-high: #1a6fc4; --on-primary-color: #fff; --success-color-high: #1b8a4a;
  --on-success-color: #fff; --warn-color-high: #e8b10c; --on-warn-color: #111; --error-color-high: #d2301c; --on-error-color: #fff; }
:root[data-darkmode="true"] { --background-color-high: #222; --background-color-low: #333; --text-color-high: #eee; --text-color-medium: #aaa;
  --border-color-low: #3a3a3a; --primary-color-high: #4b9cc0; --success-color-high: #14935f; --warn-color-high: #a38f55;
  --on-warn-color: #222; --error-color-high: #c95350; }
body { font: 14px/1.4 sans-serif; margin: 0; color: var(--text-color-high); background: var(--background-color-high); }
header { background: #002b49; color: #fff; padding: .6em 1.2em; }
header small { opacity: .7; }
#maincontent { padding: 1em 1.5em; max-width: 1100px; }
.table { border-collapse: collapse; width: 100%; margin-bottom: 1em; }
.th, .td { text-align: left; padding: .25em .6em; border-bottom: 1px solid var(--border-color-low); font-size: 13px; }
.table-titles .th { background: var(--background-color-low); }
.alert-message { padding: .8em; margin-bottom: 1em; background: var(--background-color-low); border-left: 4px solid var(--warn-color-high); }
.alert-message.danger { border-left-color: var(--error-color-high); }
.label { padding: 3px 3px 2px; font-size: 9.75px; font-weight: bold; text-transform: uppercase; border-radius: 3px;
  color: var(--text-color-high); background-color: var(--background-color-low); margin-left: .4em; }
.label.success { background-color: var(--success-color-high); color: var(--on-success-color); }
.label.warning { background-color: var(--warn-color-high); color: var(--on-warn-color); }
.label.notice, .label.important { background-color: var(--primary-color-high); color: var(--on-primary-color); }
.cbi-section { margin-bottom: 1.2em; }
.cbi-map-descr { opacity: .75; margin-bottom: 1em; }
</style></head>
<body>
<header><strong>OpenWrt</strong> <small>LuCI preview · Status › Mesh agent</small></header>
<div id="maincontent"><div id="view"></div></div>
<script src="/luci-preview/shim.js"></script>
</body></html>
`;

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * What rpcd's exec plugin support makes of one plugin run (rpcd plugin.c
 * rpc_plugin_call_finish_cb): the first JSON value on stdout; an object is the reply, no output
 * at all is NO_DATA, anything else INVALID_ARGUMENT. The exit code is ignored. A run killed at
 * the exec timeout goes through the same check, so a silent hang is NO_DATA, not TIMEOUT.
 */
export function pluginReply(run) {
  if (run.spawnError) return [run.spawnError === 'EACCES' ? UBUS_PERMISSION_DENIED : run.spawnError === 'ENOENT' ? UBUS_NOT_FOUND : 9];
  const out = run.stdout.trimStart();
  if (out === '') return [UBUS_NO_DATA];
  let data;
  try {
    data = firstJsonValue(out);
  } catch {
    return [UBUS_INVALID_ARGUMENT];
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [UBUS_INVALID_ARGUMENT];
  // uhttpd's legacy reply leaves out an empty reply table: the result is then [0] alone.
  return Object.keys(data).length ? [0, data] : [0];
}

// json-c's tokener stops after the first complete value; JSON.parse needs it cut out.
function firstJsonValue(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    const nl = text.indexOf('\n');
    if (nl > 0) return JSON.parse(text.slice(0, nl));
    throw e;
  }
}

/**
 * Starts the preview server. socketPath: the agent's status socket (handed to the plugin as
 * X0TTA6BL4_SOCKET). execTimeoutMs stands for rpcd's -t, scriptTimeoutMs for uhttpd's -t.
 * Returns the page URL, close(), the path of the installed plugin copy (a test may break it
 * as one could on a router) and setObjectRegistered(false), which makes the ubus object vanish
 * as it does when the plugin is removed and rpcd reloaded.
 */
export async function startLuciPreview({ socketPath, port = 0, host = '127.0.0.1', execTimeoutMs = RPCD_EXEC_TIMEOUT_MS, scriptTimeoutMs = UHTTPD_SCRIPT_TIMEOUT_MS, viewFile = VIEW_FILE } = {}) {
  if (typeof socketPath !== 'string' || !socketPath.startsWith('/'))
    throw new LuciPreviewError(`socketPath must be an absolute path (got ${JSON.stringify(socketPath)})`);
  const grants = readAclGrants();
  const plugin = installPluginCopy();
  const env = { X0TTA6BL4_SOCKET: socketPath };
  const stats = { rpcCalls: 0 };
  let registered = true;

  // rpcd learns an exec plugin's methods from `<plugin> list` once, when it loads it.
  const listed = await runPlugin(plugin.path, ['list'], { env });
  let methods;
  try {
    methods = Object.keys(JSON.parse(listed.stdout));
  } catch {
    rmSync(plugin.dir, { recursive: true, force: true });
    throw new LuciPreviewError(`rpcd plugin 'list' did not print JSON: ${listed.stdout.slice(0, 200)} ${listed.stderr.slice(0, 200)}`);
  }

  // uhttpd's order (ubus.c uh_ubus_handle_request_object): object lookup, then the session's
  // ACL, then the call; its own script timeout answers with a JSON-RPC error.
  async function ubusCall(object, method, args) {
    if (object !== 'luci.x0tta6bl4' || !registered) return { error: RPC_OBJECT_NOT_FOUND };
    if (!(grants[object] ?? []).includes(method)) return { error: RPC_ACCESS_DENIED };
    if (!methods.includes(method)) return { result: [UBUS_METHOD_NOT_FOUND] };
    let timer;
    const late = new Promise((resolve) => (timer = setTimeout(() => resolve({ error: RPC_TIMEOUT }), scriptTimeoutMs)));
    const run = runPlugin(plugin.path, ['call', method], { stdin: JSON.stringify(args ?? {}), env, timeoutMs: execTimeoutMs });
    const answer = await Promise.race([late, run.then((r) => ({ result: pluginReply(r) }))]);
    clearTimeout(timer);
    return answer;
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/' || path === '/cgi-bin/luci/admin/status/x0tta6bl4'))
      return send(res, 200, 'text/html; charset=utf-8', PAGE);
    // Read per request so that an edited view or shim shows on reload.
    if (req.method === 'GET' && path === '/luci-preview/shim.js') return send(res, 200, 'text/javascript', readFileSync(SHIM_FILE));
    if (req.method === 'GET' && path === '/luci-static/resources/view/x0tta6bl4/status.js') return send(res, 200, 'text/javascript', readFileSync(viewFile));
    if (req.method === 'POST' && (path === '/ubus' || path === '/ubus/')) {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => {
        body += d;
        if (body.length > 65536) req.destroy();
      });
      req.on('end', async () => {
        let msg;
        try {
          msg = JSON.parse(body);
        } catch {
          return send(res, 200, 'application/json', JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
        }
        const [, object, method, args] = Array.isArray(msg?.params) ? msg.params : [];
        if (msg?.method !== 'call' || typeof object !== 'string' || typeof method !== 'string')
          return send(res, 200, 'application/json', JSON.stringify({ jsonrpc: '2.0', id: msg?.id ?? null, error: { code: -32600, message: 'Invalid request' } }));
        stats.rpcCalls++;
        const answer = await ubusCall(object, method, args);
        send(res, 200, 'application/json', JSON.stringify({ jsonrpc: '2.0', id: msg.id, ...answer }));
      });
      return;
    }
    send(res, 404, 'text/plain', 'not found\n');
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  }).catch((e) => {
    rmSync(plugin.dir, { recursive: true, force: true });
    throw new LuciPreviewError(`cannot listen on ${host}:${port}: ${e.message}`);
  });
  const addr = server.address();
  const url = `http://${host}:${addr.port}/`;
  return {
    url,
    stats,
    methods,
    pluginPath: plugin.path,
    setObjectRegistered(on) {
      registered = Boolean(on);
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(plugin.dir, { recursive: true, force: true });
          resolve();
        });
      });
    },
  };
}

function parseCli(argv) {
  const opts = { socketPath: '/var/run/x0tta6bl4/status.sock', port: 8080 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--socket') opts.socketPath = argv[++i];
    else if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/luci-preview.mjs [--socket PATH] [--port N]');
      process.exit(0);
    } else throw new LuciPreviewError(`unknown argument '${a}'`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new LuciPreviewError('--port must be 0..65535');
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const p = await startLuciPreview(parseCli(process.argv.slice(2)));
    console.error(`LuCI preview of luci-app-x0tta6bl4 on ${p.url} (Ctrl-C to stop)`);
    const stop = () => p.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (e) {
    console.error(`luci-preview: ${e.message}`);
    process.exit(1);
  }
}
