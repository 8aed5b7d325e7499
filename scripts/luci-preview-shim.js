// A SHIM of the LuCI JS runtime (luci-base 24.10) for scripts/luci-preview.mjs: the APIs the
// view uses, written from luci-base's luci.js, rpc.js and ui.js so that they behave the same
// where a view can tell the difference:
//  - view: 'Loading view…' spinner, load() → render() → #view; a rejection goes to L.error,
//    which adds a notification and leaves the spinner (luci.js View.__init__).
//  - rpc.declare: JSON-RPC errors and HTTP errors reject; a non-zero ubus status resolves to
//    the bare status number unless `reject: true`; `expect` and `filter` as in
//    rpc.js handleCallReply; L.raise appends a stack trace to the message.
//  - poll: one tick a second, a function runs every `interval` ticks and not again before its
//    promise settles; its rejection is not caught (luci.js Poll.step uses only .finally).
//  - E()/dom: array items become text nodes, a bare string child is assigned to innerHTML.
// Not copied from LuCI: written to match it. `?poll=N` shortens every poll interval to N s,
// `?tr=pseudo` pseudo-translates.
'use strict';
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
    parent: function(node, selector) { return node && node.closest ? node.closest(selector) : null; },
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
  // No catalog in the preview: LuCI's L.tr returns the source string when none is loaded.
  // `?tr=pseudo` marks every translated string as ‹…›, to see which words went through _().
  window._ = params.get('tr') === 'pseudo' ? function(s) { return '\u2039' + s + '\u203a'; } : function(s) { return s; };

  // luci.js String.prototype.format, reduced to the conversions L.raise's callers use here.
  function format(fmt, args) {
    var i = 0;
    return String(fmt).replace(/%([%sdh])/g, function(m, c) { return c === '%' ? '%' : String(args[i++]); });
  }

  var L = window.L = {
    env: { sessionid: '00000000000000000000000000000000' },
    isObject: function(v) { return v != null && typeof v === 'object'; },
    resolveDefault: function(value, defvalue) { return Promise.resolve(value).catch(function() { return defvalue; }); },
    resource: function(p) { return '/luci-static/resources/' + p; },
    url: function(p) { return '/cgi-bin/luci/' + p; },
    bind: function(fn, self) { var a = Array.prototype.slice.call(arguments, 2); return function() { return fn.apply(self, a.concat(Array.prototype.slice.call(arguments))); }; },
    raise: function(type, fmt) {
      var msg = fmt ? format(fmt, Array.prototype.slice.call(arguments, 2)) : null;
      if (type instanceof Error) {
        if (msg) type.message = msg + ': ' + type.message;
        throw type;
      }
      var e = new Error(msg || 'Unspecified error');
      e.name = type || 'Error';
      // As luci.js: the message gets the stack frames appended, one '  at …' line each.
      var frames = (new Error('stacktrace').stack || '').split(/\n/).slice(1).map(function(f) { return '  ' + f.trim(); });
      if (frames.length) e.message += '\n' + frames.join('\n');
      throw e;
    },
    error: function(type, fmt) {
      try { L.raise.apply(L, arguments); }
      catch (e) {
        if (!e.reported) {
          ui.addNotification(e.name || _('Runtime error'), E('pre', {}, e.message), 'danger');
          e.reported = true;
        }
        throw e;
      }
    },
    dom: dom
  };

  var ui = {
    addNotification: function(title, children, timeout) {
      var mc = document.querySelector('#maincontent') || document.body;
      var msg = E('div', { 'class': 'alert-message fade-in', 'style': 'display:flex' }, [
        E('div', { 'style': 'flex:10' }),
        E('div', { 'style': 'flex:1 1 auto; display:flex' }, [
          E('button', { 'class': 'btn', 'click': function() { msg.parentNode && msg.parentNode.removeChild(msg); } }, [ _('Dismiss') ])
        ])
      ]);
      if (title != null) dom.append(msg.firstElementChild, E('h4', {}, title));
      dom.append(msg.firstElementChild, children);
      for (var i = 3; i < arguments.length; i++) msg.classList.add(arguments[i]);
      mc.insertBefore(msg, mc.firstElementChild);
      if (typeof timeout === 'number' && timeout > 0)
        setTimeout(function() { msg.parentNode && msg.parentNode.removeChild(msg); }, timeout);
      return msg;
    }
  };

  var UBUS_STATUS_TEXT = [ 'Command OK', 'Invalid command', 'Invalid argument', 'Method not found', 'Resource not found',
    'No data received', 'Permission denied', 'Request timeout', 'Not supported', 'Unspecified error', 'Connection lost' ];

  var rpcRequestID = 1;
  window.__rpcCalls = 0;

  // rpc.js handleCallReply, step by step.
  function handleCallReply(req, msg) {
    var type = Object.prototype.toString, ret = null;
    if (!L.isObject(msg) || msg.jsonrpc != '2.0')
      L.raise('RPCError', 'RPC call to %s/%s returned invalid message frame', req.object, req.method);
    if (L.isObject(msg.error) && msg.error.code && msg.error.message)
      L.raise('RPCError', 'RPC call to %s/%s failed with error %d: %s', req.object, req.method, msg.error.code, msg.error.message || '?');
    if (Array.isArray(msg.result)) {
      if (req.raise && msg.result[0] !== 0)
        L.raise('RPCError', 'RPC call to %s/%s failed with ubus code %d: %s', req.object, req.method, msg.result[0],
          UBUS_STATUS_TEXT[msg.result[0]] || 'Unknown error code');
      ret = (msg.result.length > 1) ? msg.result[1] : msg.result[0];
    }
    if (req.expect) {
      for (var key in req.expect) {
        if (ret != null && key != '') ret = ret[key];
        if (ret == null || type.call(ret) != type.call(req.expect[key])) ret = req.expect[key];
        break;
      }
    }
    if (typeof req.filter == 'function') {
      req.priv[0] = ret;
      req.priv[1] = req.params;
      ret = req.filter.apply(rpc, req.priv);
    }
    return ret;
  }

  // LuCI's request.post: an XHR with a timeout of L.env.rpctimeout (default 20) seconds.
  function post(url, body) {
    var ctl = new AbortController(), timedOut = false;
    var timer = setTimeout(function() { timedOut = true; ctl.abort(); }, (L.env.rpctimeout || 20) * 1000);
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctl.signal })
      .then(function(res) { clearTimeout(timer); return res; }, function() {
        clearTimeout(timer);
        throw new Error(timedOut ? 'XHR request timed out' : 'XHR request aborted by browser');
      });
  }

  var rpc = {
    declare: function(options) {
      return function() {
        var args = Array.prototype.slice.call(arguments), p_off = 0, params = {};
        if (Array.isArray(options.params))
          for (p_off = 0; p_off < options.params.length; p_off++) params[options.params[p_off]] = args[p_off];
        var priv = [ undefined, undefined ];
        for (; p_off < args.length; p_off++) priv.push(args[p_off]);
        var req = { expect: options.expect, filter: options.filter, params: params, priv: priv,
          object: options.object, method: options.method, raise: options.reject };
        var msg = { jsonrpc: '2.0', id: rpcRequestID++, method: 'call', params: [ L.env.sessionid, options.object, options.method, params ] };
        window.__rpcCalls++;
        return post('/ubus/', msg).then(function(res) {
          if (!res.ok)
            L.raise('RPCError', 'RPC call to %s/%s failed with HTTP error %d: %s', req.object, req.method, res.status, res.statusText || '?');
          return res.json();
        }).then(function(reply) { return handleCallReply(req, reply); });
      };
    }
  };

  var Poll = {
    queue: [], tick: 0, timer: null,
    add: function(fn, interval) {
      if (isNaN(interval) || typeof fn != 'function') throw new TypeError('Invalid argument to LuCI.poll.add()');
      for (var i = 0; i < Poll.queue.length; i++) if (Poll.queue[i].fn === fn) return false;
      Poll.queue.push({ r: true, i: (pollOverride || interval) >>> 0, fn: fn });
      if (!Poll.timer) { Poll.tick = 0; Poll.timer = setInterval(Poll.step, 1000); Poll.step(); }
      return true;
    },
    remove: function(fn) {
      Poll.queue = Poll.queue.filter(function(e) { return e.fn !== fn; });
      if (!Poll.queue.length && Poll.timer) { clearInterval(Poll.timer); Poll.timer = null; }
    },
    step: function() {
      Poll.queue.forEach(function(e) {
        if ((Poll.tick % e.i) != 0 || !e.r) return;
        e.r = false;
        Promise.resolve(e.fn()).finally(function() { e.r = true; });
      });
      Poll.tick = (Poll.tick + 1) % Math.pow(2, 32);
    }
  };

  var baseView = { load: function() {}, render: function() {} };
  var view = { extend: function(proto) {
    var Cls = function() {};
    Cls.prototype = Object.assign(Object.create(baseView), proto);
    return Cls;
  } };

  var modules = { view: view, rpc: rpc, poll: Poll, dom: dom, ui: ui };
  // For the shim's own test (test/luci/preview-shim.test.ts); LuCI has no such global.
  window.__luciShim = modules;

  // LuCI's loader: the view file is a function body whose 'require x' lines name its arguments.
  function instantiate(src) {
    var names = [], m, re = /^\s*'require\s+([\w.]+)(?:\s+as\s+(\w+))?';/gm;
    while ((m = re.exec(src))) names.push({ mod: m[1], as: m[2] || m[1].split('.').pop() });
    names.forEach(function(n) { if (!modules[n.mod]) throw new Error('the preview has no LuCI module ' + n.mod); });
    var Cls = new Function(names.map(function(n) { return n.as; }).join(','), src).apply(window, names.map(function(n) { return modules[n.mod]; }));
    return new Cls();
  }

  var vp = document.getElementById('view');
  dom.content(vp, E('div', { 'class': 'spinning' }, _('Loading view…')));
  fetch('/luci-static/resources/view/x0tta6bl4/status.js').then(function(r) { return r.text(); }).then(function(src) {
    var v = instantiate(src);
    // View.__init__: load, render, show; any rejection → L.error, the spinner stays.
    return Promise.resolve(v.load()).then(L.bind(v.render, v)).then(function(nodes) {
      dom.content(vp, nodes);
      document.body.setAttribute('data-view-ready', '1');
    }).catch(function(e) { L.error(e); });
  }).catch(function(e) {
    // L.error re-throws, as LuCI's does: log it for the preview's user.
    console.error(e && e.message || e);
  });
})();
