/* app.js - results as you type, filters without reloads and keyboard moves, over the server-rendered page. */
(function () {
	'use strict';

	/*
	 * The server renders every page completely (it works without this
	 * file); this re-renders #main from /api/search with the same markup
	 * as server/html.c.  Keep the two in step.
	 */
	const DEBOUNCE_MS = 150;
	const DEFAULT_LIMIT = 10;
	const COLORS = ['red', 'white', 'blue', 'green', 'orange', 'purple'];
	const PATTERNS = ['solid', 'blinking', 'pulsing', 'off'];

	const box = document.getElementById('q');
	if (!box || !box.form)
		return;
	const form = box.form;
	const main = document.getElementById('main');
	const status = document.getElementById('status');
	/* Only the search page has results to update in place. */
	const live = main !== null && status !== null &&
		location.pathname === '/';

	let state = fromURL(location.href);
	let timer = 0;
	let controller = null;

	/* Percent-encode like html.c: everything but unreserved characters. */
	function enc(s) {
		return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
			return '%' + c.charCodeAt(0).toString(16).toUpperCase();
		});
	}

	function fromURL(href) {
		const p = new URL(href, location.href).searchParams;
		const num = function (k) {
			const n = parseInt(p.get(k) || '0', 10);
			return isFinite(n) && n > 0 ? n : 0;
		};
		return {
			q: p.get('q') || '',
			model: p.get('model') || '',
			symptom: p.get('symptom') || '',
			offset: num('offset'),
			limit: num('limit'),
		};
	}

	/* The same URL html.c's search_href builds, parameter for parameter. */
	function searchURL(s) {
		const parts = [];
		if (s.q)
			parts.push('q=' + enc(s.q));
		if (s.model)
			parts.push('model=' + enc(s.model));
		if (s.symptom)
			parts.push('symptom=' + enc(s.symptom));
		if (s.offset > 0)
			parts.push('offset=' + s.offset);
		if (s.limit && s.limit !== DEFAULT_LIMIT)
			parts.push('limit=' + s.limit);
		return parts.length ? '/?' + parts.join('&') : '/';
	}

	function apiURL(s) {
		let u = '/api/search?q=' + enc(s.q);
		if (s.model)
			u += '&model=' + enc(s.model);
		if (s.symptom)
			u += '&symptom=' + enc(s.symptom);
		u += '&limit=' + (s.limit || DEFAULT_LIMIT);
		if (s.offset > 0)
			u += '&offset=' + s.offset;
		return u;
	}

	function articleURL(article, anchor) {
		return '/articles/' + enc(String(article)) +
			(anchor ? '#' + enc(anchor) : '');
	}

	/* el('p', {class: 'x'}, 'text', node, ...): text is never parsed. */
	function el(tag, attrs) {
		const e = document.createElement(tag);
		Object.keys(attrs || {}).forEach(function (k) {
			e.setAttribute(k, attrs[k]);
		});
		for (let i = 2; i < arguments.length; i++) {
			const c = arguments[i];
			if (c !== null && c !== undefined)
				e.append(c);
		}
		return e;
	}

	/*
	 * A snippet arrives HTML-safe with matches in <mark>.  It is parsed in
	 * an inert document and only its text and <mark>s are copied over, so
	 * even a snippet that was not safe could not add markup.
	 */
	function snippetNodes(html) {
		const doc = new DOMParser().parseFromString(
			'<p>' + html + '</p>', 'text/html');
		const frag = document.createDocumentFragment();
		const p = doc.body.firstChild;
		(p ? Array.from(p.childNodes) : []).forEach(function (n) {
			if (n.nodeType === Node.ELEMENT_NODE &&
			    n.nodeName === 'MARK')
				frag.append(el('mark', null, n.textContent));
			else
				frag.append(n.textContent);
		});
		return frag;
	}

	function summaryText(d) {
		const n = d.estimatedTotalHits;
		return n + ' result' + (n === 1 ? '' : 's') +
			(d.relaxed ? ' with some of the words' : '') +
			' for \u201c' + d.query + '\u201d \u00b7 ' +
			d.processingTimeMs + ' ms';
	}

	function understoodText(u) {
		if (!u)
			return '';
		const led = u.led || {};
		const parts = [];
		if (u.model)
			parts.push('model ' + u.model);
		else if (u.brand)
			parts.push('brand ' + u.brand);
		if (led.color || led.pattern)
			parts.push('light ' + [led.pattern, led.color]
				.filter(Boolean).join(' '));
		if (u.symptoms && u.symptoms.length)
			parts.push('symptoms ' + u.symptoms.join(', '));
		return parts.length ? 'Understood: ' + parts.join(' \u00b7 ') : '';
	}

	function ledLabel(color, pattern) {
		if (pattern === 'off')
			return color ? color + ' light off' : 'light off';
		const words = [pattern, color].filter(Boolean).join(' ');
		return words ? words + ' light' : 'light';
	}

	function ledPhrase(color, pattern) {
		let t;
		if (pattern === 'off')
			t = color ? color + ' light off' : 'light off';
		else
			t = [pattern, color].filter(Boolean).join(' ') || 'light';
		return /^[a-z]/.test(t) ? t[0].toUpperCase() + t.slice(1) : t;
	}

	function ledCard(a) {
		const color = COLORS.indexOf(a.color) >= 0 ? a.color : 'other';
		const pattern = PATTERNS.indexOf(a.pattern) >= 0 ? a.pattern
			: 'solid';
		const src = a.source || {};
		const p = el('p', null, el('strong', null,
			ledPhrase(a.color, a.pattern)));
		if (a.model)
			p.append(' on the ' + a.model);
		p.append(' means ', el('strong', { class: 'meaning' },
			a.meaning || ''), '.');
		return el('div', { class: 'led-card' },
			el('span', {
				class: 'led led-' + color + ' led-' + pattern,
				role: 'img',
				'aria-label': ledLabel(a.color, a.pattern),
			}),
			p,
			el('a', {
				class: 'source',
				href: articleURL(src.article, src.anchor),
			}, src.heading ? src.heading + ' \u2014 ' + (src.path || '')
				: (src.path || '')));
	}

	function chip(s, label, pressed, count) {
		const a = el('a', {
			class: 'chip',
			'aria-pressed': pressed ? 'true' : 'false',
			href: searchURL(s),
			role: 'button',
		}, count === null ? label : label + ' ');
		if (count !== null)
			a.append(el('span', { class: 'count' }, String(count)));
		return a;
	}

	function same(a, b) {
		return !!a && !!b && a.toLowerCase() === b.toLowerCase();
	}

	/* One group of chips; key is 'model' or 'symptom'. */
	function chipGroup(name, key, facet, cur, s) {
		const values = Object.keys(facet || {});
		if (!values.length && !cur)
			return null;
		const g = el('div', { class: 'chips', role: 'group',
			'aria-label': name },
		el('span', { class: 'chips-label', 'aria-hidden': 'true' }, name));
		const link = function (v) {
			const t = Object.assign({}, s, { offset: 0 });
			t[key] = v;
			return t;
		};
		if (cur && !values.some(function (v) { return same(v, cur); }))
			g.append(chip(link(''), cur, true, null));
		values.forEach(function (v) {
			const on = same(v, cur);
			g.append(chip(link(on ? '' : v), v, on, facet[v]));
		});
		return g;
	}

	function filters(d, s) {
		const f = d.filters || {};
		const fd = d.facetDistribution || {};
		const cur = {
			q: s.q,
			model: f.model || s.model,
			symptom: f.symptom || s.symptom,
			offset: 0,
			limit: d.limit,
		};
		const m = chipGroup('Model', 'model', fd.model, cur.model, cur);
		const y = chipGroup('Symptom', 'symptom', fd.symptom, cur.symptom,
			cur);
		if (!m && !y)
			return null;
		return el('nav', { id: 'filters', class: 'filters',
			'aria-label': 'Filters' }, m, y);
	}

	function hit(h) {
		const link = el('a', {
			class: 'result-link',
			href: articleURL(h.article, h.anchor),
		}, el('span', { class: 'heading' }, h.heading || h.title || ''));
		if (h.heading)
			link.append(el('span', { class: 'title' }, h.title || ''));
		return el('li', { class: 'result' }, link,
			el('p', { class: 'snippet' }, snippetNodes(h.snippet || '')),
			el('p', { class: 'path' }, h.path || ''));
	}

	function pages(d, s) {
		const limit = d.limit || DEFAULT_LIMIT;
		const n = d.hits.length;
		const base = {
			q: s.q,
			model: (d.filters && d.filters.model) || s.model,
			symptom: (d.filters && d.filters.symptom) || s.symptom,
			limit: d.limit,
		};
		const prev = d.offset > 0;
		const next = n > 0 && d.offset + n < d.estimatedTotalHits;
		if (!prev && !next)
			return null;
		const nav = el('nav', { class: 'pages', 'aria-label': 'Pages' });
		if (prev)
			nav.append(el('a', { rel: 'prev', href: searchURL(
				Object.assign({}, base, {
					offset: Math.max(0, d.offset - limit),
				})) }, '\u2190 Previous'));
		if (next)
			nav.append(el('a', { rel: 'next', href: searchURL(
				Object.assign({}, base, { offset: d.offset + n })) },
			'Next \u2192'));
		return nav;
	}

	function empty(node) {
		while (node.firstChild)
			node.firstChild.remove();
	}

	/* Everything in #main after the status line (which stays, for aria-live). */
	function clearBelowStatus() {
		while (status.nextSibling)
			status.nextSibling.remove();
	}

	function render(d, s) {
		const u = understoodText(d.understood);
		empty(status);
		status.append(el('span', { class: 'summary' }, summaryText(d)));
		if (u)
			status.append(el('span', { class: 'understood' }, u));
		clearBelowStatus();
		const frag = document.createDocumentFragment();
		const dymState = {
			q: d.didYouMean,
			model: (d.filters && d.filters.model) || s.model,
			symptom: (d.filters && d.filters.symptom) || s.symptom,
			offset: 0,
			limit: d.limit,
		};
		if (d.didYouMean)
			frag.append(el('p', { id: 'dym', class: 'dym' },
				'Did you mean ', el('a', { href: searchURL(dymState) },
					d.didYouMean), '?'));
		const leds = (d.answers && d.answers.led) || [];
		if (leds.length)
			frag.append(el('section', { id: 'answers', class: 'answers',
				'aria-label': 'Answer' }, ...leds.map(ledCard)));
		const f = filters(d, s);
		if (f)
			frag.append(f);
		const ol = el('ol', { id: 'results', class: 'results' },
			...d.hits.map(hit));
		if (d.offset > 0)
			ol.setAttribute('start', String(d.offset + 1));
		frag.append(ol);
		if (!d.hits.length)
			frag.append(el('p', { class: 'empty' }, 'No results. Try ' +
				'fewer or other words, or remove a filter.'));
		const p = pages(d, s);
		if (p)
			frag.append(p);
		main.append(frag);
	}

	function clearResults() {
		empty(status);
		clearBelowStatus();
		main.append(el('ol', { id: 'results', class: 'results' }));
	}

	function showError(message) {
		empty(status);
		status.append(el('span', { class: 'error' },
			'Search failed: ' + message));
		clearBelowStatus();
		main.append(el('ol', { id: 'results', class: 'results' }));
	}

	/* The hidden filter fields follow the state, so a plain submit keeps them. */
	function syncForm(s) {
		['model', 'symptom'].forEach(function (k) {
			let input = form.querySelector('input[type=hidden][name=' +
				k + ']');
			if (!s[k]) {
				if (input)
					input.remove();
				return;
			}
			if (!input) {
				input = el('input', { type: 'hidden', name: k });
				form.insertBefore(input,
					form.querySelector('button') || null);
			}
			input.value = s[k];
		});
		if (box.value !== s.q)
			box.value = s.q;
	}

	/* how: 'push' adds a history entry, 'replace' rewrites it, 'none' leaves it. */
	async function run(how, afterRender) {
		clearTimeout(timer);
		const s = Object.assign({}, state);
		const url = searchURL(s);
		if (how === 'push' && url !== location.pathname + location.search)
			history.pushState(s, '', url);
		else if (how !== 'none')
			history.replaceState(s, '', url);
		document.title = s.q ? s.q + ' \u2013 kbsearch' : 'kbsearch';
		syncForm(s);
		if (controller)
			controller.abort();
		controller = null;
		if (!s.q.trim()) {
			main.removeAttribute('aria-busy');
			clearResults();
			return;
		}
		const mine = new AbortController();
		controller = mine;
		main.setAttribute('aria-busy', 'true');
		try {
			const res = await fetch(apiURL(s), {
				signal: mine.signal,
				headers: { Accept: 'application/json' },
			});
			let d = null;
			try {
				d = await res.json();
			} catch (e) {
				d = null;
			}
			if (controller !== mine)
				return;
			if (!res.ok || !d || !Array.isArray(d.hits)) {
				showError(d && d.error && d.error.message
					? d.error.message
					: 'the server answered ' + res.status);
				return;
			}
			render(d, s);
			if (afterRender)
				afterRender();
		} catch (e) {
			if (e.name !== 'AbortError' && controller === mine)
				showError('the server could not be reached');
		} finally {
			if (controller === mine) {
				controller = null;
				main.removeAttribute('aria-busy');
			}
		}
	}

	function typing(t) {
		return t && (t.isContentEditable ||
			/^(INPUT|TEXTAREA|SELECT)$/.test(t.nodeName));
	}

	/* Keyboard: "/" to search, arrows through results, Escape back. */
	document.addEventListener('keydown', function (e) {
		if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey)
			return;
		const t = e.target;
		if (e.key === '/' && !typing(t)) {
			e.preventDefault();
			box.focus();
			box.select();
			return;
		}
		if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
			const links = Array.from(
				document.querySelectorAll('.result-link'));
			const i = links.indexOf(t);
			if (!links.length || (t !== box && i < 0))
				return;
			if (e.key === 'ArrowUp' && t === box)
				return;
			e.preventDefault();
			if (e.key === 'ArrowDown')
				links[Math.min(i + 1, links.length - 1)].focus();
			else if (i === 0)
				box.focus();
			else
				links[i - 1].focus();
			return;
		}
		if (e.key === 'Escape' && t !== box && main && main.contains(t)) {
			e.preventDefault();
			box.focus();
			return;
		}
		/* Chips say role="button": Space presses them too. */
		if (e.key === ' ' && t.matches && t.matches('a.chip')) {
			e.preventDefault();
			t.click();
		}
	});

	/*
	 * Result links carry no query, and the server sends no Referer, so the
	 * search page notes where a result was opened from; the article's
	 * back link then returns to those results (through history, keeping
	 * the scroll position).
	 */
	const FROM_KEY = 'kbsearch.from';

	function remember(articlePath) {
		try {
			sessionStorage.setItem(FROM_KEY, JSON.stringify({
				search: location.pathname + location.search,
				article: articlePath,
			}));
		} catch (e) {
			/* Storage may be off; the back link then starts a new search. */
		}
	}

	function recalled() {
		try {
			const v = JSON.parse(sessionStorage.getItem(FROM_KEY) || 'null');
			return v && v.article === location.pathname &&
				/^\/(\?|$)/.test(v.search) ? v : null;
		} catch (e) {
			return null;
		}
	}

	const back = document.querySelector('a.back');
	const from = back ? recalled() : null;
	if (back && from) {
		back.setAttribute('href', from.search);
		back.textContent = '\u2190 Back to results';
		back.addEventListener('click', function (e) {
			if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey ||
			    e.altKey || history.length < 2)
				return;
			e.preventDefault();
			history.back();
		});
	}

	if (!live)
		return;

	box.addEventListener('input', function () {
		state = Object.assign({}, state, { q: box.value, offset: 0 });
		clearTimeout(timer);
		timer = setTimeout(function () {
			run('replace');
		}, DEBOUNCE_MS);
	});

	form.addEventListener('submit', function (e) {
		e.preventDefault();
		state = Object.assign({}, state, { q: box.value, offset: 0 });
		run('push');
	});

	/* Links back to this page (chips, pages, did-you-mean) search in place. */
	main.addEventListener('click', function (e) {
		const a = e.target.closest && e.target.closest('a[href]');
		if (!a || e.button !== 0 || e.ctrlKey || e.metaKey ||
		    e.shiftKey || e.altKey)
			return;
		const u = new URL(a.href, location.href);
		if (u.origin !== location.origin)
			return;
		if (u.pathname.indexOf('/articles/') === 0) {
			remember(u.pathname);
			return;
		}
		if (u.pathname !== '/')
			return;
		e.preventDefault();
		let refocus = null;
		if (a.classList.contains('chip')) {
			const g = a.closest('[role=group]');
			const group = g ? g.getAttribute('aria-label') : '';
			const label = (a.firstChild && a.firstChild.textContent ||
				'').trim();
			refocus = function () {
				const chips = main.querySelectorAll(
					'[role=group] a.chip');
				Array.from(chips).some(function (c) {
					const cg = c.closest('[role=group]');
					if (cg.getAttribute('aria-label') !== group ||
					    (c.firstChild.textContent || '').trim() !==
					    label)
						return false;
					c.focus();
					return true;
				});
			};
		}
		state = fromURL(u.href);
		run('push', refocus);
	});

	window.addEventListener('popstate', function () {
		state = fromURL(location.href);
		run('none');
	});

	/* A fresh search page on a desktop: ready to type. */
	if (!box.value && window.matchMedia &&
	    window.matchMedia('(hover: hover) and (pointer: fine)').matches)
		box.focus();
}());
