#!/usr/bin/env node
// Serves the LuCI status page of luci-app-x0tta6bl4 outside a router: a small page that
// provides the LuCI JS APIs the view uses (view, rpc, poll, dom, E, _), the real view file,
// and an rpcd stand-in that checks the real ACL file and runs the real rpcd exec plugin
// against a running agent's status socket. Used by the LuCI test (headless Chromium) and by
// the demo (`npm start`).
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

// ubus status codes that rpcd answers with (libubus.h).
const UBUS_METHOD_NOT_FOUND = 3;
const UBUS_NO_DATA = 5;
const UBUS_PERMISSION_DENIED = 6;
const UBUS_TIMEOUT = 7;
const PLUGIN_TIMEOUT_MS = 10_000;

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
export function runPlugin(pluginPath, args, { stdin = '', env = {}, timeoutMs = PLUGIN_TIMEOUT_MS } = {}) {
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
      resolve({ code: -1, stdout: out, stderr: String(e.message), timedOut });
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

const PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>x0tta6bl4 – LuCI preview</title>
<link rel="icon" href="data:,">
<style>
body { font: 14px/1.4 sans-serif; margin: 0; color: #222; background: #fff; }
header { background: #002b49; color: #fff; padding: .6em 1.2em; }
header small { opacity: .7; }
#maincontent { padding: 1em 1.5em; max-width: 1100px; }
.table { border-collapse: collapse; width: 100%; margin-bottom: 1em; }
.th, .td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e5e5e5; font-size: 13px; }
.table-titles .th { background: #f2f2f2; }
.alert-message { padding: .8em; background: #fff3cd; border: 1px solid #e0c36b; }
.cbi-section { margin-bottom: 1.2em; }
.cbi-map-descr { opacity: .75; margin-bottom: 1em; }
</style></head>
<body>
<header><strong>OpenWrt</strong> <small>LuCI preview · Status › Mesh agent</small></header>
<div id="maincontent"><div id="view"><p><em>Loading view…</em></p></div></div>
<script src="/luci-preview/shim.js"></script>
</body></html>
`;

// The LuCI APIs the view uses, with LuCI's semantics where they matter: E() puts array
// items in as text nodes but assigns a bare string child to innerHTML, rpc calls go out as
// ubus JSON-RPC, poll waits for each round before scheduling the next.
const SHIM = String.raw`'use strict';
(function() {
  var params = new URLSearchParams(location.search);
  var pollOverride = params.has('poll') ? Number(params.get('poll')) : null;

  function isNode(x) { return x instanceof Node; }
  function append(node, children) {
    if (Array.isArray(children)) {
      for (var i = 0; i < children.length; i++) {
        var c = children[i];
        if (isNode(c)) node.appendChild(c);
        else if (c !== null && c !== undefined) node.appendChild(document.createTextNode('' + c));
      }
      return node.lastChild;
    }
    if (typeof children === 'function') return append(node, children(node));
    if (isNode(children)) return node.appendChild(children);
    if (children !== null && children !== undefined) { node.innerHTML = '' + children; return node.lastChild; }
    return null;
  }
  var dom = {
    elem: isNode,
    append: append,
    content: function(node, children) { while (node.firstChild) node.removeChild(node.firstChild); return append(node, children); },
    create: function(html, attr, data) {
      if (!(attr instanceof Object) || Array.isArray(attr) || isNode(attr)) { data = attr; attr = null; }
      var elem;
      if (isNode(html)) elem = html;
      else if (typeof html === 'string' && html.charAt(0) === '<') {
        var t = document.createElement('template'); t.innerHTML = html; elem = t.content.firstChild;
      } else elem = document.createElement(html);
      if (attr) for (var k in attr) {
        var v = attr[k];
        if (typeof v === 'function') elem.addEventListener(k, v);
        else if (v !== null && v !== undefined) elem.setAttribute(k, typeof v === 'object' ? JSON.stringify(v) : v);
      }
      append(elem, data);
      return elem;
    }
  };
  window.E = function() { return dom.create.apply(dom, arguments); };
  window._ = function(s) { return s; };

  var rpcId = 0;
  window.__rpcCalls = 0;
  var rpc = {
    declare: function(opts) {
      return function() {
        var args = {}, callArgs = arguments;
        (opts.params || []).forEach(function(p, i) { if (callArgs[i] !== undefined) args[p] = callArgs[i]; });
        var body = { jsonrpc: '2.0', id: ++rpcId, method: 'call', params: ['00000000000000000000000000000000', opts.object, opts.method, args] };
        window.__rpcCalls++;
        return fetch('/ubus/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
          .then(function(r) { return r.json(); })
          .then(function(reply) {
            if (reply.error) throw new Error('RPC error: ' + reply.error.message);
            var status = reply.result[0], data = reply.result[1];
            if (status !== 0) throw new Error('ubus ' + opts.object + '.' + opts.method + ' failed with status ' + status);
            if (opts.expect) {
              var key = Object.keys(opts.expect)[0];
              if (key !== '') data = (data && data[key] !== undefined) ? data[key] : opts.expect[key];
              else if (data === undefined) data = opts.expect[key];
            }
            return opts.filter ? opts.filter(data, args) : data;
          });
      };
    }
  };

  var poll = {
    add: function(fn, interval) {
      var ms = 1000 * (pollOverride || interval || 5);
      var step = function() {
        Promise.resolve().then(fn).catch(function(e) { console.error('poll:', e); }).then(function() { setTimeout(step, ms); });
      };
      setTimeout(step, ms);
    }
  };

  var baseView = { load: function() {}, render: function() {} };
  var view = { extend: function(proto) {
    var Cls = function() {};
    Cls.prototype = Object.assign(Object.create(baseView), proto);
    return Cls;
  } };

  window.L = {
    env: {},
    resource: function(p) { return '/luci-static/resources/' + p; },
    bind: function(fn, self) { var a = Array.prototype.slice.call(arguments, 2); return function() { return fn.apply(self, a.concat(Array.prototype.slice.call(arguments))); }; },
    dom: dom
  };
  var modules = { view: view, rpc: rpc, poll: poll, dom: dom };

  // LuCI's loader: the view file is a function body whose 'require x' lines name its arguments.
  fetch('/luci-static/resources/view/x0tta6bl4/status.js').then(function(r) { return r.text(); }).then(function(src) {
    var names = [], m, re = /^\s*'require\s+([\w.]+)(?:\s+as\s+(\w+))?';/gm;
    while ((m = re.exec(src))) names.push({ mod: m[1], as: m[2] || m[1].split('.').pop() });
    names.forEach(function(n) { if (!modules[n.mod]) throw new Error('the preview has no LuCI module ' + n.mod); });
    var Cls = new Function(names.map(function(n) { return n.as; }).join(','), src).apply(window, names.map(function(n) { return modules[n.mod]; }));
    var v = new Cls();
    return Promise.resolve(v.load()).then(function(data) { return v.render(data); }).then(function(node) {
      dom.content(document.getElementById('view'), node);
      document.body.setAttribute('data-view-ready', '1');
    });
  }).catch(function(e) {
    console.error(e);
    dom.content(document.getElementById('view'), [E('div', { 'class': 'alert-message', id: 'preview-error' }, [String(e && e.stack || e)])]);
  });
})();
`;

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * Starts the preview server. socketPath: the agent's status socket (handed to the plugin as
 * X0TTA6BL4_SOCKET). Returns the page URL and close().
 */
export async function startLuciPreview({ socketPath, port = 0, host = '127.0.0.1' } = {}) {
  if (typeof socketPath !== 'string' || !socketPath.startsWith('/'))
    throw new LuciPreviewError(`socketPath must be an absolute path (got ${JSON.stringify(socketPath)})`);
  const grants = readAclGrants();
  const plugin = installPluginCopy();
  const env = { X0TTA6BL4_SOCKET: socketPath };
  const stats = { rpcCalls: 0 };

  // rpcd learns an exec plugin's methods from `<plugin> list` once, when it loads it.
  const listed = await runPlugin(plugin.path, ['list'], { env });
  let methods;
  try {
    methods = Object.keys(JSON.parse(listed.stdout));
  } catch {
    rmSync(plugin.dir, { recursive: true, force: true });
    throw new LuciPreviewError(`rpcd plugin 'list' did not print JSON: ${listed.stdout.slice(0, 200)} ${listed.stderr.slice(0, 200)}`);
  }

  async function ubusCall(object, method, args) {
    if (object !== 'luci.x0tta6bl4') return [UBUS_METHOD_NOT_FOUND];
    if (!methods.includes(method)) return [UBUS_METHOD_NOT_FOUND];
    if (!(grants[object] ?? []).includes(method)) return { denied: true };
    const r = await runPlugin(plugin.path, ['call', method], { stdin: JSON.stringify(args ?? {}), env });
    if (r.timedOut) return [UBUS_TIMEOUT];
    try {
      const data = JSON.parse(r.stdout);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return [UBUS_NO_DATA];
      return [0, data];
    } catch {
      return [UBUS_NO_DATA];
    }
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/' || path === '/cgi-bin/luci/admin/status/x0tta6bl4'))
      return send(res, 200, 'text/html; charset=utf-8', PAGE);
    if (req.method === 'GET' && path === '/luci-preview/shim.js') return send(res, 200, 'text/javascript', SHIM);
    if (req.method === 'GET' && path === '/luci-static/resources/view/x0tta6bl4/status.js') {
      // Read per request so that an edited view shows on reload.
      return send(res, 200, 'text/javascript', readFileSync(VIEW_FILE));
    }
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
        const result = await ubusCall(object, method, args);
        if (!Array.isArray(result))
          return send(res, 200, 'application/json', JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32002, message: 'Access denied' } }));
        send(res, 200, 'application/json', JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
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
