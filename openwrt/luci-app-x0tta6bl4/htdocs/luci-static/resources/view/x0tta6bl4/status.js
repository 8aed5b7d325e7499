'use strict';
'require view';
'require rpc';
'require poll';
'require dom';

// Status page of the x0tta6bl4 mesh agent: data loading (one rpc call, polled) plus
// rendering, nothing else, as in luci-proto-batman-adv's status view.
//
// Every string that comes from the agent (node names, MACs, event messages that may quote a
// peer) goes into E() inside an array: LuCI turns array items into text nodes, while a bare
// string child is assigned to innerHTML.
//
// Errors: load() and the poll never reject. A failed call (rpcd status, JSON-RPC error,
// timeout) or an agent that does not answer becomes an error box with the reason; the next
// good answer removes it. A rejected load() would leave LuCI's "Loading view…" spinner up for
// good, a rejected poll an uncaught rejection over stale data.

var callStatus = rpc.declare({
	object: 'luci.x0tta6bl4',
	method: 'status',
	// reject: a non-zero ubus status rejects instead of resolving to the bare number;
	// expect: anything but an object becomes {} (and is then reported as unreadable).
	expect: { '': {} },
	reject: true
});

var POLL_SECONDS = 5;
var SVG_NS = 'http://www.w3.org/2000/svg';
var GRAPH_W = 600, GRAPH_H = 180, GRAPH_PAD = 40, GRAPH_TOP = 10;
var EVENT_KINDS = { finding: _('Finding'), action: _('Action'), rollback: _('Rollback'), fault: _('Fault'), info: _('Info') };
// State words and the bootstrap theme's label class for each; the theme colours them (also in
// dark mode). The theme has no `label danger`: the one rule for it below uses its variables.
var STATES = {
	ok: [ _('ok'), 'success' ], degraded: [ _('degraded'), 'warning' ], down: [ _('down'), 'danger' ],
	disabled: [ _('disabled'), '' ], unknown: [ _('unknown'), '' ]
};
var STYLE = '.label.danger{background-color:var(--error-color-high);color:var(--on-error-color)}' +
	'#x0-graph svg{color:inherit;overflow:visible}#x0-graph .x0-grid{stroke:currentColor;opacity:.2}' +
	'#x0-graph .x0-axis{fill:currentColor;opacity:.7;font-size:10px}';

// '%s'/'%d' placeholders filled in order: the translated sentence keeps its word order.
function fill(tpl) {
	var args = arguments, i = 1;
	return String(tpl).replace(/%[sd]/g, function() { return String(args[i++]); });
}

function msAgo(ms) {
	if (ms == null || isNaN(ms)) return '–';
	if (ms < 1000) return fill(_('%d ms'), ms);
	if (ms < 60000) return fill(_('%s s'), (ms / 1000).toFixed(1));
	return fill(_('%d min'), Math.floor(ms / 60000));
}

function duration(s) {
	s = Math.max(0, Math.floor(+s || 0));
	var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
	return (d ? fill(_('%dd'), d) + ' ' : '') + (d || h ? fill(_('%dh'), h) + ' ' : '') + fill(_('%dm'), m) + ' ' + fill(_('%ds'), s % 60);
}

function throughput(kbps) {
	if (kbps == null) return '–';
	return kbps >= 1000 ? fill(_('%s Mbit/s'), (kbps / 1000).toFixed(1)) : fill(_('%d kbit/s'), kbps);
}

function stateBadge(state) {
	var s = STATES[state] || STATES.unknown;
	return E('span', { 'class': 'label' + (s[1] ? ' ' + s[1] : ''), 'data-state': String(state) }, [ s[0] ]);
}

// A MAC the agent has a node name for shows as the name, the MAC kept in a tooltip and a
// data attribute; an unknown one shows as the bare MAC.
function macCell(names, mac) {
	var name = mac != null && names[mac];
	if (!name) return mac;
	return E('span', { 'class': 'x0-node-name', 'title': mac, 'data-mac': mac }, [ String(name) ]);
}

// A LuCI-styled table; every cell value is put in an array so that strings become text nodes.
function table(id, headers, rows, emptyText) {
	var trs = [ E('tr', { 'class': 'tr table-titles' }, headers.map(function(h) {
		return E('th', { 'class': 'th' }, [ h ]);
	})) ];

	if (rows.length === 0)
		trs.push(E('tr', { 'class': 'tr placeholder' }, [
			E('td', { 'class': 'td', 'colspan': headers.length }, [ E('em', {}, [ emptyText ]) ])
		]));

	rows.forEach(function(cells) {
		trs.push(E('tr', { 'class': 'tr' }, cells.map(function(c, i) {
			return E('td', { 'class': 'td', 'data-title': headers[i] }, [ c == null ? '–' : c ]);
		})));
	});

	return E('table', { 'class': 'table', 'id': id }, trs);
}

function svg(tag, attrs) {
	var el = document.createElementNS(SVG_NS, tag);
	for (var k in attrs)
		el.setAttribute(k, String(attrs[k]));
	return el;
}

// Distinct line colours for any number of links: hues a golden angle apart never repeat.
function linkColour(i) {
	return 'hsl(' + ((210 + i * 137.508) % 360).toFixed(1) + ', 70%, 50%)';
}

// The y-axis zoomed to the plotted values: a little room above and below, rounded to a
// 1/2/5 step, kept inside 0..255 for TQ and above 0 for throughput.
function yAxis(values, kind) {
	var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
	var top = kind === 'throughput' ? Infinity : 255, minSpan = kind === 'throughput' ? 100 : 10;
	if (hi - lo < minSpan) { lo -= (minSpan - (hi - lo)) / 2; hi = lo + minSpan; }
	var pad = (hi - lo) * 0.1;
	lo = Math.max(0, lo - pad); hi = Math.min(top, hi + pad);
	var raw = (hi - lo) / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
	var step = [ 1, 2, 5, 10 ].map(function(f) { return f * mag; }).filter(function(s) { return s >= raw; })[0];
	lo = Math.floor(lo / step) * step;
	hi = Math.min(top, Math.ceil(hi / step) * step);
	var ticks = [];
	for (var t = lo; t <= hi + step / 1e6; t += step) ticks.push(t);
	// A top clamped to 255 gets its own tick, in place of a step just under it.
	if (ticks[ticks.length - 1] < hi) ticks[hi - ticks[ticks.length - 1] < step / 2 ? ticks.length - 1 : ticks.length] = hi;
	return { lo: lo, hi: hi, ticks: ticks };
}

function graphLegend(links, kind, names) {
	return E('ul', { 'style': 'list-style:none;padding:0;margin:.3em 0' }, links.map(function(l, li) {
		return E('li', { 'style': 'display:inline-block;margin-right:1.5em' }, [
			E('span', { 'class': 'x0-swatch', 'style': 'display:inline-block;width:1em;height:.5em;margin-right:.3em;background:' + linkColour(li) }, []),
			macCell(names, l.neighbour), ' @ ', String(l.hardIfname), ': ',
			E('strong', {}, [ l.metric == null ? '–' : (kind === 'throughput' ? throughput(l.metric) : fill(_('TQ %d'), l.metric)) ])
		]);
	}));
}

// The link-quality graph: one path per link over its history (one sample per agent poll),
// broken where the link was absent.
function renderGraph(links, names) {
	var box = E('div', { 'id': 'x0-graph' });
	var values = [], n = 1;
	(links || []).forEach(function(l) {
		n = Math.max(n, (l.history || []).length);
		(l.history || []).forEach(function(v) { if (v != null) values.push(v); });
	});

	if (!links || links.length === 0 || values.length === 0) {
		box.appendChild(E('p', {}, [ E('em', {}, [ _('No links to plot yet.') ]) ]));
		return box;
	}

	var kind = links[0].metricKind, axis = yAxis(values, kind);
	var plotW = GRAPH_W - GRAPH_PAD - 8, plotH = GRAPH_H - 2 * GRAPH_TOP;
	var x = function(i) { return GRAPH_PAD + (n > 1 ? i * plotW / (n - 1) : plotW); };
	var y = function(v) { return GRAPH_TOP + plotH - Math.max(0, Math.min(1, (v - axis.lo) / (axis.hi - axis.lo))) * plotH; };

	var chart = svg('svg', {
		'viewBox': '0 0 ' + GRAPH_W + ' ' + GRAPH_H, 'width': '100%', 'height': GRAPH_H, 'role': 'img',
		'aria-label': _('Link quality'), 'style': 'max-width:' + GRAPH_W + 'px', 'data-y-min': axis.lo, 'data-y-max': axis.hi
	});

	axis.ticks.forEach(function(t) {
		chart.appendChild(svg('line', { 'class': 'x0-grid', 'x1': GRAPH_PAD, 'x2': GRAPH_W - 8, 'y1': y(t), 'y2': y(t) }));
		var label = svg('text', { 'class': 'x0-axis', 'x': GRAPH_PAD - 4, 'y': y(t) + 4, 'text-anchor': 'end' });
		label.textContent = kind === 'throughput' ? String(+(t / 1000).toFixed(2)) : String(Math.round(t));
		chart.appendChild(label);
	});

	links.forEach(function(l, li) {
		var d = '', pen = false, hist = l.history || [];
		hist.forEach(function(v, i) {
			if (v == null) { pen = false; return; }
			d += (pen ? 'L' : 'M') + x(i + n - hist.length).toFixed(1) + ' ' + y(v).toFixed(1) + ' ';
			pen = true;
		});
		if (d)
			chart.appendChild(svg('path', {
				'd': d.trim(), 'fill': 'none', 'stroke': linkColour(li), 'stroke-width': 2,
				'class': 'x0-link', 'data-neighbour': l.neighbour, 'data-points': hist.filter(function(v) { return v != null; }).length
			}));
	});

	box.appendChild(chart);
	box.appendChild(graphLegend(links, kind, names));
	box.appendChild(E('p', { 'style': 'font-size:90%;opacity:.7' }, [
		kind === 'throughput' ? _('Throughput in Mbit/s, one sample per agent poll.') : _('Transmit quality (TQ, 0–255), one sample per agent poll.')
	]));
	return box;
}

function renderSummary(st) {
	var node = st.node || {}, health = st.health || { overall: 'unknown', components: [] };
	var rows = [
		[ 'name', _('Node'), node.name ], [ 'fleet', _('Fleet'), node.fleet ], [ 'version', _('Version'), node.version ],
		[ 'uptime', _('Uptime'), duration(node.uptimeS) ],
		[ 'mesh', _('Mesh'), (node.meshIf || '–') + ' · ' + (node.algo || '–') + ' · ' + (node.address || '–') ],
		[ 'driver', _('Driver'), node.driver ], [ 'core', _('Core'), node.core || _('unavailable') ],
		[ 'mode', _('Mode'), node.dryRun ? _('dry run: plans and reports, changes nothing') : _('active') ]
	];

	return E('div', { 'id': 'x0-summary', 'class': 'cbi-section' }, [
		E('h3', {}, [ _('Node'), ' ', stateBadge(health.overall) ]),
		E('table', { 'class': 'table', 'id': 'x0-node' }, rows.map(function(r) {
			return E('tr', { 'class': 'tr' }, [
				E('td', { 'class': 'td left', 'width': '25%' }, [ r[1] ]),
				E('td', { 'class': 'td left', 'data-field': r[0] }, [ r[2] == null ? '–' : String(r[2]) ])
			]);
		})),
		E('h4', {}, [ _('Health') ]),
		table('x0-health', [ _('Component'), _('State'), _('Reason') ], (health.components || []).map(function(c) {
			return [ c.name, stateBadge(c.state), c.reason ];
		}), _('No components reported'))
	]);
}

// One row per originator: the route batman-adv uses (or the first one seen while none is
// marked best), and how many other next hops it knows. The full table is `batctl o`.
function bestRoutes(originators) {
	var byOrig = {}, order = [];
	originators.forEach(function(o) {
		var r = byOrig[o.originator];
		if (!r) { r = byOrig[o.originator] = { best: o, others: -1 }; order.push(o.originator); }
		else if (o.best && !r.best.best) r.best = o;
		r.others++;
	});
	return order.sort().map(function(k) { return byOrig[k]; });
}

function renderMesh(mesh, algo, names) {
	mesh = mesh || {};
	var v = algo === 'BATMAN_V', m = function(mac) { return macCell(names, mac); };
	var metric = function(r) { return v ? throughput(r.throughputKbps) : (r.tq == null ? '–' : String(r.tq)); };
	return E('div', { 'class': 'cbi-section' }, [
		E('h3', {}, [ _('Neighbours') ]),
		// BATMAN_IV has no per-neighbour throughput estimate: no column for it.
		table('x0-neighbours', [ _('Neighbour'), _('Interface'), _('Last seen') ].concat(v ? [ _('Throughput') ] : []),
			(mesh.neighbours || []).map(function(n) {
				return [ m(n.neighbour), n.hardIfname, msAgo(n.lastSeenMs) ].concat(v ? [ throughput(n.throughputKbps) ] : []);
			}), _('No neighbours')),
		E('h3', {}, [ _('Originators') ]),
		table('x0-originators', [ _('Originator'), _('Next hop'), _('Interface'), _('Last seen'), v ? _('Throughput') : _('TQ'), _('Other next hops') ],
			bestRoutes(mesh.originators || []).map(function(r) {
				var o = r.best;
				return [ m(o.originator), m(o.nextHop), o.hardIfname, msAgo(o.lastSeenMs), metric(o), String(r.others) ];
			}), _('No originators')),
		E('h3', {}, [ _('Gateways') ]),
		table('x0-gateways', [ _('Gateway'), _('Router'), _('Interface'), _('Bandwidth down/up'), v ? _('Throughput') : _('TQ'), _('Selected') ],
			(mesh.gateways || []).map(function(g) {
				return [ m(g.originator), m(g.router), g.hardIfname, throughput(g.bandwidthDownKbps) + ' / ' + throughput(g.bandwidthUpKbps),
					metric(g), g.best ? '★' : '' ];
			}), _('No gateways announced'))
	]);
}

function renderEvents(events) {
	var recent = (events || []).slice(-30).reverse();
	return E('div', { 'class': 'cbi-section' }, [
		E('h3', {}, [ _('Recent findings, actions and rollbacks') ]),
		table('x0-events', [ _('Time'), _('Kind'), _('Message') ], recent.map(function(e) {
			return [ String(e.ts || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z'), EVENT_KINDS[e.kind] || e.kind, e.message ];
		}), _('Nothing happened yet'))
	]);
}

function flatValue(v) {
	if (v == null) return '–';
	if (typeof v === 'object') return JSON.stringify(v);
	return String(v);
}

// Learning, federation and telemetry report free-form objects; null means disabled or absent.
function renderPart(id, title, obj) {
	var body;
	if (obj == null)
		body = E('p', {}, [ E('em', {}, [ _('Disabled or not reported by this agent.') ]) ]);
	else
		body = table(id, [ _('Key'), _('Value') ], Object.keys(obj).map(function(k) {
			return [ k, flatValue(obj[k]) ];
		}), _('Nothing reported'));
	return E('div', { 'class': 'cbi-section', 'id': id + '-section' }, [ E('h3', {}, [ title ]), body ]);
}

// What went wrong, in words for the operator, plus the technical detail as reported. LuCI's
// RPC errors carry a stack trace after the first line of their message: only that line shows.
function rpcFailure(e) {
	var detail = String((e && e.message) || e).split('\n')[0];
	var what = _('The router could not ask the mesh agent.');
	if (/Object not found/.test(detail))
		what = _('The ubus object luci.x0tta6bl4 is missing: is luci-app-x0tta6bl4 installed and rpcd reloaded (/etc/init.d/rpcd reload)?');
	else if (/Access denied/.test(detail))
		what = _('Access denied: log in again, or check the ACL of luci-app-x0tta6bl4.');
	else if (/ubus code/.test(detail))
		what = _('The rpcd plugin of the mesh agent failed (it crashed, printed no answer or timed out).');
	else if (/timed out/.test(detail))
		what = _('The router did not answer in time.');
	return { what: what, detail: detail };
}

// A reply of the plugin: a status document, or an error the plugin reports for the agent.
function classify(st) {
	if (L.isObject(st) && st.error != null)
		return { failure: { what: _('The mesh agent does not answer.'), detail: String(st.error) } };
	if (!L.isObject(st) || !L.isObject(st.node) || !L.isObject(st.health))
		return { failure: { what: _('The mesh agent sent an answer this page cannot read.'), detail: JSON.stringify(st).slice(0, 200) } };
	return { status: st };
}

function fetchStatus() {
	return callStatus().then(classify, function(e) { return { failure: rpcFailure(e) }; });
}

function renderError(f) {
	return E('div', { 'class': 'alert-message warning', 'id': 'x0-error' }, [
		E('strong', {}, [ f.what ]), E('br'),
		E('code', { 'class': 'x0-error-detail' }, [ f.detail || _('Unknown error') ]), E('br'),
		fill(_('The page keeps trying every %d seconds.'), POLL_SECONDS)
	]);
}

return view.extend({
	load: function() {
		return fetchStatus();
	},

	renderStatus: function(st) {
		var names = L.isObject(st.names) ? st.names : {};
		return E('div', {}, [
			renderSummary(st),
			E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Link quality') ]), renderGraph(st.links, names) ]),
			renderMesh(st.mesh, st.node && st.node.algo, names),
			renderEvents(st.events),
			renderPart('x0-learning', _('Learning'), st.learning),
			renderPart('x0-federation', _('Federation'), st.federation),
			renderPart('x0-telemetry', _('Telemetry'), st.telemetry)
		]);
	},

	// A failure replaces the data: figures kept from an earlier answer would pass for current.
	show: function(alert, body, result) {
		if (result.failure) {
			dom.content(alert, [ renderError(result.failure) ]);
			dom.content(body, []);
		} else {
			dom.content(alert, []);
			dom.content(body, [ this.renderStatus(result.status) ]);
		}
	},

	render: function(result) {
		var alert = E('div', { 'id': 'x0-alert' }), body = E('div', { 'id': 'x0-body' });
		var self = this;
		this.show(alert, body, result);

		poll.add(function() {
			return fetchStatus().then(function(next) { self.show(alert, body, next); });
		}, POLL_SECONDS);

		return E('div', {}, [
			E('style', {}, [ STYLE ]),
			E('h2', {}, [ _('Mesh agent') ]),
			E('div', { 'class': 'cbi-map-descr' }, [ _('What the x0tta6bl4 agent on this router sees and does, refreshed every few seconds.') ]),
			alert,
			body
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
