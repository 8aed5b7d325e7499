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

var callStatus = rpc.declare({
	object: 'luci.x0tta6bl4',
	method: 'status'
});

var POLL_SECONDS = 5;
var SVG_NS = 'http://www.w3.org/2000/svg';
var GRAPH_W = 600, GRAPH_H = 180, GRAPH_PAD = 28;
var COLOURS = [ '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf' ];
var STATE_COLOURS = { ok: '#2e7d32', degraded: '#ef6c00', down: '#c62828', disabled: '#757575' };
var EVENT_KINDS = { finding: _('Finding'), action: _('Action'), rollback: _('Rollback'), fault: _('Fault'), info: _('Info') };

function msAgo(ms) {
	if (ms == null || isNaN(ms)) return '–';
	if (ms < 1000) return ms + ' ms';
	if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
	return Math.floor(ms / 60000) + ' min';
}

function duration(s) {
	s = Math.max(0, Math.floor(+s || 0));
	var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
	return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's';
}

function throughput(kbps) {
	if (kbps == null) return '–';
	return kbps >= 1000 ? (kbps / 1000).toFixed(1) + ' Mbit/s' : kbps + ' kbit/s';
}

function stateBadge(state) {
	return E('span', {
		'class': 'x0-state x0-state-' + state,
		'style': 'display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;background:' + (STATE_COLOURS[state] || '#757575')
	}, [ String(state) ]);
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

// The link-quality graph: one path per link over its history (one sample per agent poll),
// broken where the link was absent. TQ is plotted on 0..255, throughput on 0..max seen.
function renderGraph(links) {
	var box = E('div', { 'id': 'x0-graph' });

	if (!links || links.length === 0) {
		box.appendChild(E('p', {}, [ E('em', {}, [ _('No links to plot yet.') ]) ]));
		return box;
	}

	var kind = links[0].metricKind;
	var seen = 1;
	links.forEach(function(l) {
		(l.history || []).forEach(function(v) { if (v != null && v > seen) seen = v; });
	});
	// TQ tops out at 255; a weak mesh would hug the floor, so zoom to 32/64/128/255 as needed.
	var max = kind === 'throughput' ? seen : [ 32, 64, 128, 255 ].filter(function(c) { return c >= seen; })[0] || 255;

	var n = 1;
	links.forEach(function(l) { n = Math.max(n, (l.history || []).length); });

	var plotW = GRAPH_W - GRAPH_PAD - 8, plotH = GRAPH_H - 2 * 10;
	var x = function(i) { return GRAPH_PAD + (n > 1 ? i * plotW / (n - 1) : plotW); };
	var y = function(v) { return 10 + plotH - Math.min(1, v / max) * plotH; };

	var chart = svg('svg', {
		'viewBox': '0 0 ' + GRAPH_W + ' ' + GRAPH_H, 'width': '100%', 'height': GRAPH_H,
		'role': 'img', 'aria-label': _('Link quality'), 'style': 'max-width:' + GRAPH_W + 'px;background:#fafafa;border:1px solid #ddd'
	});

	[ 0, 0.5, 1 ].forEach(function(f) {
		var yy = 10 + plotH - f * plotH;
		chart.appendChild(svg('line', { 'x1': GRAPH_PAD, 'x2': GRAPH_W - 8, 'y1': yy, 'y2': yy, 'stroke': '#ddd' }));
		var label = svg('text', { 'x': 2, 'y': yy + 4, 'font-size': 10, 'fill': '#666' });
		label.textContent = kind === 'throughput' ? (f * max / 1000).toFixed(f ? 1 : 0) : String(Math.round(f * max));
		chart.appendChild(label);
	});

	var legend = [];
	links.forEach(function(l, li) {
		var colour = COLOURS[li % COLOURS.length];
		var d = '', pen = false, hist = l.history || [];
		hist.forEach(function(v, i) {
			if (v == null) { pen = false; return; }
			d += (pen ? 'L' : 'M') + x(i + n - hist.length).toFixed(1) + ' ' + y(v).toFixed(1) + ' ';
			pen = true;
		});
		if (d)
			chart.appendChild(svg('path', {
				'd': d.trim(), 'fill': 'none', 'stroke': colour, 'stroke-width': 2,
				'class': 'x0-link', 'data-neighbour': l.neighbour, 'data-points': hist.filter(function(v) { return v != null; }).length
			}));
		legend.push(E('li', { 'style': 'display:inline-block;margin-right:1.5em' }, [
			E('span', { 'style': 'display:inline-block;width:1em;height:.5em;margin-right:.3em;background:' + colour }, []),
			l.neighbour + ' @ ' + l.hardIfname + ': ',
			E('strong', {}, [ l.metric == null ? '–' : (kind === 'throughput' ? throughput(l.metric) : 'TQ ' + l.metric) ])
		]));
	});

	box.appendChild(chart);
	box.appendChild(E('ul', { 'style': 'list-style:none;padding:0;margin:.3em 0' }, legend));
	box.appendChild(E('p', { 'style': 'font-size:90%;opacity:.7' }, [
		kind === 'throughput' ? _('Throughput in Mbit/s, one sample per agent poll.') : _('Transmit quality (TQ, 0–255), one sample per agent poll.')
	]));
	return box;
}

function renderSummary(st) {
	var node = st.node || {}, health = st.health || { overall: 'down', components: [] };
	var rows = [
		[ _('Node'), node.name ], [ _('Fleet'), node.fleet ], [ _('Version'), node.version ],
		[ _('Uptime'), duration(node.uptimeS) ], [ _('Mesh'), (node.meshIf || '–') + ' · ' + (node.algo || '–') + ' · ' + (node.address || '–') ],
		[ _('Driver'), node.driver ], [ _('Core'), node.core || _('unavailable') ],
		[ _('Mode'), node.dryRun ? _('dry run: plans and reports, changes nothing') : _('active') ]
	];

	return E('div', { 'id': 'x0-summary', 'class': 'cbi-section' }, [
		E('h3', {}, [ _('Node'), ' ', stateBadge(health.overall) ]),
		E('table', { 'class': 'table', 'id': 'x0-node' }, rows.map(function(r) {
			return E('tr', { 'class': 'tr' }, [
				E('td', { 'class': 'td left', 'width': '25%' }, [ r[0] ]),
				E('td', { 'class': 'td left', 'data-field': r[0] }, [ r[1] == null ? '–' : String(r[1]) ])
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

function renderMesh(mesh, algo) {
	mesh = mesh || {};
	var v = algo === 'BATMAN_V';
	return E('div', { 'class': 'cbi-section' }, [
		E('h3', {}, [ _('Neighbours') ]),
		// BATMAN_IV has no per-neighbour throughput estimate: no column for it.
		table('x0-neighbours', [ _('Neighbour'), _('Interface'), _('Last seen') ].concat(v ? [ _('Throughput') ] : []),
			(mesh.neighbours || []).map(function(n) {
				return [ n.neighbour, n.hardIfname, msAgo(n.lastSeenMs) ].concat(v ? [ throughput(n.throughputKbps) ] : []);
			}), _('No neighbours')),
		E('h3', {}, [ _('Originators') ]),
		table('x0-originators', [ _('Originator'), _('Next hop'), _('Interface'), _('Last seen'), v ? _('Throughput') : _('TQ'), _('Other next hops') ],
			bestRoutes(mesh.originators || []).map(function(r) {
				var o = r.best;
				return [ o.originator, o.nextHop, o.hardIfname, msAgo(o.lastSeenMs),
					v ? throughput(o.throughputKbps) : (o.tq == null ? '–' : String(o.tq)), String(r.others) ];
			}), _('No originators')),
		E('h3', {}, [ _('Gateways') ]),
		table('x0-gateways', [ _('Gateway'), _('Router'), _('Interface'), _('Bandwidth down/up'), v ? _('Throughput') : _('TQ'), _('Selected') ],
			(mesh.gateways || []).map(function(g) {
				return [ g.originator, g.router, g.hardIfname, throughput(g.bandwidthDownKbps) + ' / ' + throughput(g.bandwidthUpKbps),
					v ? throughput(g.throughputKbps) : (g.tq == null ? '–' : String(g.tq)), g.best ? '★' : '' ];
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

function renderError(st) {
	return E('div', { 'class': 'alert-message warning', 'id': 'x0-error' }, [
		E('strong', {}, [ _('The mesh agent does not answer.') ]), ' ',
		String(st.error || _('Unknown error')),
		E('br'),
		_('The page keeps trying every %d seconds.').replace('%d', POLL_SECONDS)
	]);
}

return view.extend({
	load: function() {
		return callStatus();
	},

	renderStatus: function(st) {
		if (!st || st.error)
			return E('div', {}, [ renderError(st || {}) ]);

		return E('div', {}, [
			renderSummary(st),
			E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Link quality') ]), renderGraph(st.links) ]),
			renderMesh(st.mesh, st.node && st.node.algo),
			renderEvents(st.events),
			renderPart('x0-learning', _('Learning'), st.learning),
			renderPart('x0-federation', _('Federation'), st.federation),
			renderPart('x0-telemetry', _('Telemetry'), st.telemetry)
		]);
	},

	render: function(st) {
		var body = E('div', { 'id': 'x0-body' }, [ this.renderStatus(st) ]);
		var self = this;

		poll.add(function() {
			return callStatus().then(function(next) {
				dom.content(body, [ self.renderStatus(next) ]);
			});
		}, POLL_SECONDS);

		return E('div', {}, [
			E('h2', {}, [ _('Mesh agent') ]),
			E('div', { 'class': 'cbi-map-descr' }, [ _('What the x0tta6bl4 agent on this router sees and does, refreshed every few seconds.') ]),
			body
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
