// search.test.mjs - the search page in headless Chromium: live results, filters, keyboard, XSS, no-JS, accessibility, phone width.
//
// usage: KB_URL=http://127.0.0.1:PORT node search.test.mjs
// Run through tests/browser/run.sh, which builds the index (kb/ plus the
// hostile articles in tests/browser/xss/) and starts kbserver.  Uses
// Debian's /usr/bin/chromium; never downloads a browser.  Exits 1 when a
// check fails, naming the step and what was expected.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.KB_URL || '').replace(/\/+$/, '');
const ARTIFACTS = process.env.KB_ARTIFACTS || resolve(here, '../artifacts');
const CHROMIUM = process.env.KB_CHROMIUM || '/usr/bin/chromium';
const WAIT = 10000; // ms for anything the page does after a keystroke
const LED_QUERY = 'soundcore 2 solid red';

if (!/^https?:\/\//.test(BASE)) {
	console.error('search.test.mjs: set KB_URL to the server, e.g. ' +
		'KB_URL=http://127.0.0.1:8080 (tests/browser/run.sh does)');
	process.exit(2);
}
mkdirSync(ARTIFACTS, { recursive: true });

class Failure extends Error {}

function check(cond, message) {
	if (!cond)
		throw new Failure(message);
}

function url(path) {
	return BASE + path;
}

const failures = [];
const problems = []; // script errors and CSP violations, from any page

// One user-data-dir per run, made here and removed at the end.
const profile = mkdtempSync(join(tmpdir(), 'kbsearch-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
	executablePath: CHROMIUM,
	headless: true,
	args: [
		'--headless',
		'--no-sandbox',
		'--disable-gpu',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
	],
	viewport: { width: 1280, height: 800 },
	colorScheme: 'light',
	reducedMotion: 'reduce',
});

async function newPage(opts = {}) {
	const page = await context.newPage();
	page.dialogs = [];
	page.on('dialog', (d) => {
		page.dialogs.push(d.message());
		d.dismiss().catch(() => {});
	});
	page.on('pageerror', (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
	page.on('console', (m) => {
		// CSP refusals show up here: an inline script or style slipped in.
		if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()))
			problems.push(`CSP on ${page.url()}: ${m.text()}`);
	});
	if (opts.viewport)
		await page.setViewportSize(opts.viewport);
	if (opts.colorScheme)
		await page.emulateMedia({ colorScheme: opts.colorScheme });
	if (opts.noScript) {
		const cdp = await context.newCDPSession(page);
		await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
	}
	return page;
}

async function step(name, fn) {
	const t0 = Date.now();
	try {
		await fn();
		console.log(`ok   ${name} (${Date.now() - t0} ms)`);
	} catch (e) {
		failures.push(name);
		console.log(`FAIL ${name}\n     ${e instanceof Failure ? e.message : e.stack}`);
	}
}

// Text of the whole result list, to tell one rendering from another.
function resultHeadings(page) {
	return page.$$eval('#results .result-link .heading', (els) => els.map((e) => e.textContent));
}

async function typeQuery(page, text) {
	await page.click('#q');
	await page.fill('#q', '');
	await page.locator('#q').pressSequentially(text, { delay: 15 });
}

async function waitForStatus(page, text) {
	await page.waitForFunction((t) => {
		const s = document.getElementById('status');
		return s && s.textContent.includes(t) && !document.getElementById('main').hasAttribute('aria-busy');
	}, text, { timeout: WAIT });
}

// Relative luminance and contrast ratio (WCAG 2), computed in the page.
const CONTRAST_FN = `
function parse(c) {
	const m = c.match(/rgba?\\(([^)]+)\\)/);
	if (!m) return null;
	const v = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
	return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 };
}
function lum(c) {
	const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
	return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function background(el) {
	for (let e = el; e; e = e.parentElement) {
		const c = parse(getComputedStyle(e).backgroundColor);
		if (c && c.a > 0.5) return c;
	}
	return { r: 255, g: 255, b: 255, a: 1 };
}
function ratio(el) {
	const fg = parse(getComputedStyle(el).color), bg = background(el);
	const a = lum(fg), b = lum(bg);
	return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
`;

// Every visible text element the page shows, with its contrast ratio.
async function contrasts(page) {
	return page.evaluate((fn) => {
		// eslint-disable-next-line no-new-func
		const { ratio, background, lum } = new Function(fn + 'return { ratio, background, lum };')();
		const sel = ['body', '.brand', '.hint', '#q', '.status .summary', '.status .understood',
			'.led-card p', '.led-card .source', '.chip', '.chip .count', '.chips-label',
			'.result-link .heading', '.result-link .title', '.snippet', '.snippet mark', '.path',
			'.foot', '.search button', '.chip[aria-pressed="true"]', '.doc h1', '.doc p', '.meta'];
		const out = [];
		for (const s of sel) {
			const el = document.querySelector(s);
			if (el && el.getClientRects().length)
				out.push({ sel: s, ratio: Math.round(ratio(el) * 100) / 100 });
		}
		return { out, bodyBgLum: lum(background(document.body)) };
	}, CONTRAST_FN);
}

async function assertContrast(page, scheme) {
	const { out, bodyBgLum } = await contrasts(page);
	if (scheme === 'dark')
		check(bodyBgLum < 0.1, `dark scheme: the background is not dark (luminance ${bodyBgLum.toFixed(3)})`);
	else
		check(bodyBgLum > 0.8, `light scheme: the background is not light (luminance ${bodyBgLum.toFixed(3)})`);
	check(out.some((o) => o.sel === 'body'), 'contrast: body not measured');
	const low = out.filter((o) => o.ratio < 4.5);
	check(!low.length, `${scheme} scheme: text below 4.5:1 contrast: ` +
		low.map((o) => `${o.sel} ${o.ratio}:1`).join(', '));
	return out;
}

async function assertNoPwn(page, where) {
	const pwned = await page.evaluate(() => typeof window.__pwned);
	check(pwned === 'undefined', `${where}: injected script ran (window.__pwned is ${pwned})`);
	check(!page.dialogs.length, `${where}: a dialog opened: ${page.dialogs.join(' | ')}`);
	const bad = await page.evaluate(() => {
		const found = [];
		for (const s of document.scripts)
			if (s.getAttribute('src') !== '/static/app.js')
				found.push('script ' + (s.src || s.textContent.slice(0, 40)));
		for (const e of document.querySelectorAll('img, iframe, object, embed, style'))
			found.push(e.outerHTML.slice(0, 60));
		for (const e of document.querySelectorAll('*'))
			for (const a of e.attributes)
				if (/^on/i.test(a.name) || a.name === 'style' ||
				    /^\s*javascript:/i.test(a.value))
					found.push(`${e.nodeName.toLowerCase()}[${a.name}=${a.value.slice(0, 30)}]`);
		return found;
	});
	check(!bad.length, `${where}: markup from the query or article reached the page: ${bad.join('; ')}`);
}

async function noHorizontalScroll(page, where) {
	const m = await page.evaluate(() => ({
		sw: document.documentElement.scrollWidth,
		bw: document.body.scrollWidth,
		iw: window.innerWidth,
	}));
	check(m.sw <= m.iw && m.bw <= m.iw,
		`${where}: horizontal scroll at ${m.iw}px wide (scrollWidth ${Math.max(m.sw, m.bw)})`);
}

let page; // the main desktop page, shared by the steps that follow one another
let ledQueryWorked = false;

await step('the search page loads with its assets, a labelled box and a language', async () => {
	page = await newPage();
	const res = await page.goto(url('/'));
	check(res && res.status() === 200, `GET / answered ${res && res.status()}`);
	const csp = res.headers()['content-security-policy'] || '';
	check(/default-src 'self'/.test(csp), `GET /: Content-Security-Policy is "${csp}"`);
	for (const p of ['/static/style.css', '/static/app.js', '/static/favicon.svg']) {
		const r = await page.request.get(url(p));
		check(r.status() === 200, `GET ${p} answered ${r.status()}`);
	}
	const lang = await page.getAttribute('html', 'lang');
	check(lang === 'en', `html[lang] is "${lang}"`);
	const unlabelled = await page.$$eval('input:not([type=hidden]), select, textarea', (els) =>
		els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
			!e.getAttribute('aria-labelledby')).map((e) => e.outerHTML));
	check(!unlabelled.length, `inputs without a label: ${unlabelled.join(' ')}`);
	const label = await page.$eval('label[for=q]', (l) => l.textContent.trim());
	check(label.length > 0, 'the search box label is empty');
	const os = await page.request.get(url('/opensearch.xml'));
	const osText = await os.text();
	check(os.status() === 200 && osText.includes(`template="${BASE}/?q={searchTerms}"`),
		`/opensearch.xml does not name ${BASE}/?q={searchTerms}: ${os.status()} ${osText.slice(0, 300)}`);
	check(!osText.includes('{origin}'), '/opensearch.xml still holds {origin}');
});

await step('typing shows the LED answer as a red light that means charging, without a reload', async () => {
	await page.evaluate(() => { window.__sameDocument = true; });
	await typeQuery(page, LED_QUERY);
	const dot = page.locator('.led-card .led.led-red').first();
	await dot.waitFor({ state: 'visible', timeout: WAIT });
	await page.waitForFunction(() => Array.from(document.querySelectorAll('.led-card .meaning'))
		.some((m) => /charging/i.test(m.textContent)), null, { timeout: WAIT });
	await waitForStatus(page, `for \u201c${LED_QUERY}\u201d`);
	check(await page.evaluate(() => window.__sameDocument === true),
		'the page reloaded while typing (results should come from /api/search)');
	const bg = await dot.evaluate((e) => getComputedStyle(e).backgroundColor);
	const m = bg.match(/\d+(\.\d+)?/g).map(Number);
	check(m[0] >= 180 && m[1] <= 110 && m[2] <= 110, `the LED dot is not red: ${bg}`);
	const label = await dot.getAttribute('aria-label');
	check(/red/.test(label || ''), `the LED dot's aria-label is "${label}"`);
	const u = new URL(page.url());
	check(u.pathname === '/' && u.searchParams.get('q') === LED_QUERY,
		`the address does not follow the box: ${page.url()}`);
	check((await page.title()).startsWith(LED_QUERY), `title is "${await page.title()}"`);
	const n = await page.locator('#results .result').count();
	check(n > 0, 'no results listed for the LED query');
	const src = await page.getAttribute('.led-card .source', 'href');
	check(/^\/articles\/\d+#./.test(src || ''), `the LED card's source link is "${src}"`);
	ledQueryWorked = true;
	await page.screenshot({ path: join(ARTIFACTS, 'search-desktop.png'), fullPage: false });
});

await step('the rendered results match what /api/search returns', async () => {
	check(ledQueryWorked, 'skipped: the LED query did not work');
	const api = await (await page.request.get(url('/api/search?q=' + encodeURIComponent(LED_QUERY) + '&limit=10'))).json();
	const want = api.hits.map((h) => h.heading || h.title);
	const got = await resultHeadings(page);
	check(JSON.stringify(got) === JSON.stringify(want),
		`results differ from the API:\n       page ${JSON.stringify(got)}\n       api  ${JSON.stringify(want)}`);
	const marks = await page.locator('#results .snippet mark').count();
	check(marks > 0, 'no highlighted words in the snippets');
});

// The server's markup and app.js's re-rendering of the same search must
// agree, element for element (whitespace between tags and timings aside).
const SERIALIZE = `
function ser(n) {
	if (n.nodeType === 3)
		return n.data.trim() ? n.data.replace(/\\d+ ms/, 'N ms') : '';
	if (n.nodeType !== 1)
		return '';
	const attrs = Array.from(n.attributes).map((a) => a.name + '="' + a.value + '"').sort().join(' ');
	return '<' + n.nodeName.toLowerCase() + (attrs ? ' ' + attrs : '') + '>' +
		Array.from(n.childNodes).map(ser).join('') + '</' + n.nodeName.toLowerCase() + '>';
}
return ser(document.getElementById('main'));
`;

await step('app.js renders the same markup as the server', async () => {
	const p = await newPage();
	const searches = [
		'/?q=' + encodeURIComponent(LED_QUERY),
		'/?q=' + encodeURIComponent(LED_QUERY) + '&model=' + encodeURIComponent('Anker Soundcore 2'),
		'/?q=' + encodeURIComponent('batery wont chrage'),
		'/?q=battery&offset=10',
		'/?q=battery&symptom=wont-charge',
		'/?q=zzqxjv',
	];
	for (const s of searches) {
		await p.goto(url(s));
		const server = await p.evaluate(new Function(SERIALIZE));
		const old = await p.$('#results');
		// popstate re-renders the address's search with JavaScript.
		await p.evaluate(() => window.dispatchEvent(new PopStateEvent('popstate')));
		await p.waitForFunction((e) => !e.isConnected, old, { timeout: WAIT });
		await p.waitForFunction(() => !document.getElementById('main').hasAttribute('aria-busy'), null, { timeout: WAIT });
		const client = await p.evaluate(new Function(SERIALIZE));
		if (server !== client) {
			let i = 0;
			while (i < server.length && server[i] === client[i])
				i++;
			check(false, `${s}: the markup differs at character ${i}:\n` +
				`       server: …${server.slice(Math.max(0, i - 80), i + 120)}\n` +
				`       app.js: …${client.slice(Math.max(0, i - 80), i + 120)}`);
		}
	}
	await p.close();
});

await step('a model chip filters the results in place and back undoes it', async () => {
	check(ledQueryWorked, 'skipped: the LED query did not work');
	const chip = page.locator('#filters [role=group][aria-label=Model] a.chip[aria-pressed=false]').first();
	check(await chip.count() === 1, 'no model chip to press');
	const name = (await chip.evaluate((c) => c.firstChild.textContent)).trim();
	const oldList = await page.$('#results');
	await chip.click();
	await page.waitForFunction(() => new URL(location.href).searchParams.has('model'), null, { timeout: WAIT });
	await page.waitForFunction((n) => Array.from(document.querySelectorAll(
		'#filters [aria-label=Model] a.chip[aria-pressed=true]'))
		.some((c) => c.firstChild.textContent.trim() === n), name, { timeout: WAIT });
	check(await page.evaluate(() => window.__sameDocument === true), 'pressing a chip reloaded the page');
	check(await oldList.evaluate((e) => !e.isConnected), 'the result list was not re-rendered');
	const model = new URL(page.url()).searchParams.get('model');
	check(model === name, `the address names model "${model}", the chip "${name}"`);
	const hidden = await page.getAttribute('form.search input[name=model]', 'value');
	check(hidden === name, `the form's hidden model field is "${hidden}"`);
	const api = await (await page.request.get(url('/api/search?q=' + encodeURIComponent(LED_QUERY) +
		'&model=' + encodeURIComponent(name) + '&limit=10'))).json();
	const got = await resultHeadings(page);
	const want = api.hits.map((h) => h.heading || h.title);
	check(JSON.stringify(got) === JSON.stringify(want),
		`filtered results differ from the API:\n       page ${JSON.stringify(got)}\n       api  ${JSON.stringify(want)}`);
	const focused = await page.evaluate(() => document.activeElement.classList.contains('chip'));
	check(focused, 'focus was lost after pressing the chip');

	await page.goBack();
	await page.waitForFunction(() => !new URL(location.href).searchParams.has('model'), null, { timeout: WAIT });
	await page.waitForFunction(() => !document.querySelector('#filters a.chip[aria-pressed=true]'), null, { timeout: WAIT });
	check(await page.inputValue('#q') === LED_QUERY, 'back did not restore the query');

	await page.goForward();
	await page.waitForFunction(() => !!document.querySelector('#filters a.chip[aria-pressed=true]'), null, { timeout: WAIT });
});

await step('arrow keys move a visible focus through results, Escape returns, Enter opens the section, the back link returns', async () => {
	check(ledQueryWorked, 'skipped: the LED query did not work');
	await page.focus('#q');
	await page.keyboard.press('ArrowDown');
	let f = await page.evaluate(() => {
		const a = document.activeElement;
		const links = Array.from(document.querySelectorAll('.result-link'));
		const cs = getComputedStyle(a);
		return { index: links.indexOf(a), visible: a.matches(':focus-visible'),
			width: parseFloat(cs.outlineWidth), style: cs.outlineStyle };
	});
	check(f.index === 0, `ArrowDown from the box focused result ${f.index}, not the first`);
	check(f.visible && f.width > 0 && f.style !== 'none',
		`the focused result has no visible focus ring (:focus-visible ${f.visible}, outline ${f.width}px ${f.style})`);
	const many = await page.locator('.result-link').count();
	if (many > 1) {
		await page.keyboard.press('ArrowDown');
		f = await page.evaluate(() => Array.from(document.querySelectorAll('.result-link')).indexOf(document.activeElement));
		check(f === 1, `second ArrowDown focused result ${f}`);
		await page.keyboard.press('ArrowUp');
	}
	await page.keyboard.press('Escape');
	check(await page.evaluate(() => document.activeElement.id) === 'q', 'Escape did not return to the box');
	await page.keyboard.press('ArrowDown');
	const href = await page.evaluate(() => document.activeElement.getAttribute('href'));
	check(/^\/articles\/\d+(\?[^#]*)?#.+/.test(href || ''), `the first result links to "${href}"`);
	await Promise.all([page.waitForURL(/\/articles\//, { timeout: WAIT }), page.keyboard.press('Enter')]);
	const t = await page.evaluate(() => {
		const id = decodeURIComponent(location.hash.slice(1));
		const e = document.getElementById(id);
		return { id, tag: e && e.nodeName, path: location.pathname };
	});
	check(t.tag !== null, `the article has no element with id "${t.id}" (${t.path})`);
	check(t.tag === 'H2' || t.id.startsWith('intro'), `#${t.id} is a ${t.tag}, not a section heading`);
	await assertNoPwn(page, 'article page');
	const back = page.locator('a.back');
	const backText = (await back.textContent()).trim();
	check(/Back to results/.test(backText), `the article's back link says "${backText}"`);
	await back.click();
	await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('q') === LED_QUERY, { timeout: WAIT });
	await page.locator('#results .result').first().waitFor({ timeout: WAIT });
});

await step('"/" focuses the search box from anywhere on the page', async () => {
	await page.focus('.foot').catch(() => {});
	await page.evaluate(() => document.activeElement && document.activeElement.blur());
	await page.keyboard.press('/');
	const id = await page.evaluate(() => document.activeElement.id);
	check(id === 'q', `"/" focused "${id}", not the box`);
	check(await page.inputValue('#q') === LED_QUERY, '"/" was typed into the box');
});

await step('an empty box clears the results and the address', async () => {
	await page.fill('#q', '');
	await page.waitForFunction(() => !document.querySelector('#results .result') &&
		document.getElementById('status').textContent === '', null, { timeout: WAIT });
	const u = new URL(page.url());
	check(!u.searchParams.has('q'), `the address still has q: ${page.url()}`);
});

await step('an API error is shown in the status line', async () => {
	await page.route('**/api/search**', (route) => route.fulfill({
		status: 503,
		contentType: 'application/json',
		body: JSON.stringify({ error: { code: 'unavailable', message: 'the index is being rebuilt' } }),
	}));
	await typeQuery(page, 'battery');
	await waitForStatus(page, 'the index is being rebuilt');
	await page.unroute('**/api/search**');
});

const PAYLOADS = [
	'<script>window.__pwned=1</script>',
	'"><img src=x onerror="window.__pwned=1">',
	"'><svg onload=window.__pwned=1>",
];

for (const payload of PAYLOADS) {
	await step(`the query ${payload} stays text (server-rendered and live)`, async () => {
		const p = await newPage();
		await p.goto(url('/?q=' + encodeURIComponent(payload)));
		await p.waitForLoadState('load');
		check(await p.inputValue('#q') === payload, `the box holds "${await p.inputValue('#q')}"`);
		check((await p.title()).includes(payload), `the title does not show the query as text: "${await p.title()}"`);
		const status = await p.textContent('#status');
		check(status.includes(payload) || status === '',
			`the status line does not show the query as text: "${status}"`);
		await assertNoPwn(p, `GET /?q=${payload}`);
		await typeQuery(p, payload + ' speaker');
		await waitForStatus(p, payload + ' speaker');
		await assertNoPwn(p, `typing ${payload}`);
		await p.close();
	});
}

await step('articles with <script> in title and body run nothing, from the list or opened', async () => {
	const p = await newPage();
	await p.goto(url('/?q=' + encodeURIComponent('flux capacitor sparkles')));
	const evil = p.locator('#results .result-link', { hasText: '<script>' }).first();
	check(await evil.count() === 1, 'the hostile article (tests/browser/xss/evil.md) is not among the results for "flux capacitor sparkles"; was it indexed?');
	await assertNoPwn(p, 'server-rendered list with hostile titles');
	await typeQuery(p, 'flux capacitor');
	await waitForStatus(p, 'flux capacitor\u201d');
	await p.locator('#results .result-link', { hasText: '<script>' }).first().waitFor({ timeout: WAIT });
	await assertNoPwn(p, 'live list with hostile titles');
	const links = await p.$$eval('#results .result-link', (as) => as
		.filter((a) => /flux capacitor/i.test(a.textContent))
		.map((a) => a.getAttribute('href')));
	const articles = [...new Set(links.map((h) => h.split('#')[0]))];
	check(articles.length >= 2, `expected both hostile articles (md and txt), found ${articles.join(' ')}`);
	for (const a of articles) {
		await p.goto(url(a));
		await p.waitForLoadState('load');
		const h1 = await p.textContent('article h1');
		check(h1.includes('<script>window.__pwned=1</script>'),
			`${a}: the h1 does not show the title's <script> as text: "${h1}"`);
		await assertNoPwn(p, `article ${a}`);
		const ids = await p.$$eval('article h2', (hs) => hs.map((h) => h.id));
		check(ids.length > 0 && ids.every(Boolean), `${a}: section headings without ids: ${JSON.stringify(ids)}`);
	}
	// The Markdown one keeps its literal "<script>" as visible text.
	const md = await p.evaluate(() => document.body.innerText);
	check(!/raw HTML omitted/.test(md), 'an HTML comment became visible text');
	await p.close();
});

await step('without JavaScript the server renders results and the form still searches', async () => {
	const p = await newPage({ noScript: true });
	await p.goto(url('/?q=battery'));
	const n = await p.locator('#results .result').count();
	check(n > 0, 'no server-rendered .result for "battery" without JavaScript');
	const status = await p.textContent('#status');
	check(/results? .*for \u201cbattery\u201d/.test(status), `status without JavaScript: "${status}"`);
	// Typing alone changes nothing when scripts are off: proves they are.
	await p.fill('#q', LED_QUERY);
	await p.waitForTimeout(600);
	check((await p.textContent('#status')).includes('\u201cbattery\u201d'),
		'the page updated as I typed: JavaScript was not disabled');
	await Promise.all([p.waitForURL(/[?&]q=/, { timeout: WAIT }), p.press('#q', 'Enter')]);
	await p.waitForLoadState('load');
	check(await p.inputValue('#q') === LED_QUERY,
		`after a plain form submit the box holds "${await p.inputValue('#q')}" (is "+" decoded as a space?)`);
	check(await p.locator('.led-card .led.led-red').count() > 0, 'no LED card after a plain form submit');
	const chip = p.locator('#filters a.chip').first();
	if (await chip.count()) {
		await Promise.all([p.waitForURL(/(model|symptom)=/, { timeout: WAIT }), chip.click()]);
		check(await p.locator('#filters a.chip[aria-pressed=true]').count() > 0,
			'following a chip link without JavaScript did not apply the filter');
	}
	await p.close();
});

for (const scheme of ['light', 'dark']) {
	await step(`text contrast is at least 4.5:1 in the ${scheme} scheme`, async () => {
		const p = await newPage({ colorScheme: scheme });
		await p.goto(url('/?q=' + encodeURIComponent(LED_QUERY)));
		const out = await assertContrast(p, scheme);
		const article = await p.getAttribute('#results .result-link', 'href');
		if (article) {
			await p.goto(url(article));
			await assertContrast(p, scheme);
		}
		console.log(`     ${out.map((o) => `${o.sel} ${o.ratio}`).join(', ')}`);
		await p.close();
	});
}

await step('at phone width (390x844) nothing scrolls sideways', async () => {
	const p = await newPage({ viewport: { width: 390, height: 844 } });
	await p.goto(url('/'));
	await typeQuery(p, LED_QUERY);
	await p.locator('.led-card .led').first().waitFor({ timeout: WAIT });
	await waitForStatus(p, LED_QUERY);
	await noHorizontalScroll(p, 'search page');
	await p.screenshot({ path: join(ARTIFACTS, 'search-phone.png'), fullPage: false });
	const article = await p.getAttribute('#results .result-link', 'href');
	await p.goto(url(article));
	await noHorizontalScroll(p, `article ${article}`);
	await p.goto(url('/?q=' + encodeURIComponent('a'.repeat(300))));
	await noHorizontalScroll(p, 'a 300-letter query');
	await p.close();
});

await step('no page raised a script error or a CSP violation', async () => {
	check(!problems.length, problems.join('\n     '));
});

await context.close();
rmSync(profile, { recursive: true, force: true });

if (failures.length) {
	console.log(`\nbrowser test: ${failures.length} step(s) failed: ${failures.join('; ')}`);
	process.exit(1);
}
console.log(`\nbrowser test: all steps passed; screenshots in ${ARTIFACTS}`);
