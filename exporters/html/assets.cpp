// The archive's shared stylesheet and script. They are written verbatim into every archive, so they must not
// depend on the export (deterministic output) and must never fetch anything: the script only loads the
// archive's own search/*.js files through <script> elements, which works from file://.
#include "exporters/html/html_exporter.hpp"

namespace ferry::html {

const char* ArchiveCss() {
  return R"CSS(:root {
  --bg: #ffffff; --fg: #1f2328; --muted: #5c6370; --line: #d9dce1; --panel: #f2f3f5; --accent: #3b5bdb;
  --mention-bg: #e5e9fb; --target: #fff3bf; --code-bg: #eef0f3; --spoiler: #202225;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #1e1f22; --fg: #e3e5e8; --muted: #a3a8b1; --line: #3a3c42; --panel: #2b2d31; --accent: #8ea2ff;
    --mention-bg: #3c4270; --target: #4a4320; --code-bg: #2b2d31; --spoiler: #0e0f10;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, .spoiler:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: .5em 1em; z-index: 10; }
.skip:focus { left: .5em; }
.top { position: sticky; top: 0; z-index: 5; display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center;
  justify-content: space-between; padding: .6em 1em; background: var(--panel); border-bottom: 1px solid var(--line); }
.crumbs { overflow-wrap: anywhere; }
.search { display: flex; gap: .4em; flex: 1 1 16em; max-width: 28em; }
.search input { flex: 1; min-width: 0; font: inherit; padding: .35em .6em; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); color: var(--fg); }
button { font: inherit; padding: .35em .8em; border-radius: 6px; border: 1px solid var(--line); background: var(--bg);
  color: var(--fg); cursor: pointer; }
main { max-width: 60em; margin: 0 auto; padding: 1em; }
h1 { font-size: 1.5em; margin: .3em 0; overflow-wrap: anywhere; }
.topic, .count { color: var(--muted); margin: .2em 0; }
.pager { display: flex; flex-wrap: wrap; gap: .4em 1em; align-items: center; margin: 1em 0; }
.pager .off { color: var(--muted); }
.log, .results { list-style: none; margin: 0; padding: 0; }
.msg { display: flex; gap: .8em; padding: .5em .4em; border-radius: 6px; scroll-margin-top: 5em; }
.msg:target { background: var(--target); }
.msg.pinned { border-left: 3px solid #e5a50a; }
.avatar { flex: 0 0 40px; width: 40px; height: 40px; border-radius: 50%; object-fit: cover; }
.avatar.ph { display: flex; align-items: center; justify-content: center; background: var(--panel);
  color: var(--muted); font-weight: 600; }
.body { min-width: 0; flex: 1; }
.meta { display: flex; flex-wrap: wrap; gap: .1em .5em; align-items: baseline; }
.author { font-weight: 600; overflow-wrap: anywhere; }
.tag { font-size: .7em; background: var(--accent); color: #fff; border-radius: 3px; padding: 0 .3em; }
.stamp, .edited, .pin, .n, .size, .gap { color: var(--muted); font-size: .85em; }
.stamp { text-decoration: none; }
.content { overflow-wrap: anywhere; white-space: normal; }
.content.sys { font-style: italic; color: var(--muted); }
.reply { font-size: .88em; color: var(--muted); margin-bottom: .15em; overflow-wrap: anywhere; }
.reply a { color: inherit; text-decoration: none; }
.reply a:hover .snip, .reply a:focus .snip { text-decoration: underline; }
.reply .name { font-weight: 600; }
.reply .gone { font-style: italic; }
blockquote { margin: .2em 0; padding-left: .7em; border-left: 4px solid var(--line); }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; background: var(--code-bg);
  padding: .1em .3em; border-radius: 4px; }
pre.codeblock { background: var(--code-bg); padding: .6em; border-radius: 6px; overflow-x: auto; margin: .3em 0; }
pre.codeblock code { background: none; padding: 0; white-space: pre; }
.md-h1 { font-size: 1.4em; font-weight: 700; } .md-h2 { font-size: 1.2em; font-weight: 700; }
.md-h3 { font-size: 1.05em; font-weight: 700; } .md-sub { font-size: .8em; color: var(--muted); }
.mention { background: var(--mention-bg); border-radius: 3px; padding: 0 .15em; text-decoration: none; }
.spoiler { background: var(--spoiler); color: transparent; border-radius: 3px; cursor: pointer; }
.spoiler * { visibility: hidden; }
.spoiler.revealed { background: var(--code-bg); color: inherit; cursor: auto; }
.spoiler.revealed * { visibility: visible; }
.emoji { width: 1.4em; height: 1.4em; vertical-align: -.3em; object-fit: contain; }
.attachments img, .e-img, .sticker { max-width: min(100%, 400px); max-height: 350px; height: auto; border-radius: 6px; display: block; margin: .3em 0; }
video, audio { max-width: 100%; display: block; margin: .3em 0; }
.file { margin: .2em 0; overflow-wrap: anywhere; }
.file.missing { color: var(--muted); }
.embed { border-left: 4px solid var(--line); background: var(--panel); padding: .5em .8em; border-radius: 4px;
  margin: .3em 0; max-width: 36em; overflow-wrap: anywhere; }
.e-author { font-size: .9em; font-weight: 600; } .e-title { font-weight: 700; } .e-footer, .e-media { font-size: .8em; color: var(--muted); }
.e-fields { display: flex; flex-wrap: wrap; gap: .4em 1em; margin: .4em 0; }
.e-field { flex: 1 1 100%; } .e-field.inline { flex: 1 1 10em; }
.e-fields dt { font-weight: 700; font-size: .9em; } .e-fields dd { margin: 0; }
.reactions { display: flex; flex-wrap: wrap; gap: .3em; list-style: none; padding: 0; margin: .3em 0; }
.reactions li { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .05em .45em; }
.thread-link { font-size: .9em; margin: .2em 0; }
.threads { margin: .5em 0; }
.channels, .threadlist { list-style: none; padding-left: .5em; }
.threadlist { padding-left: 1.2em; }
.channels li { margin: .2em 0; }
.gicon { border-radius: 50%; vertical-align: middle; margin-right: .4em; }
.results li { padding: .6em .4em; border-bottom: 1px solid var(--line); }
.results .where { font-size: .85em; color: var(--muted); }
@media (max-width: 600px) {
  body { font-size: 15px; }
  main { padding: .5em; }
  .avatar { flex-basis: 32px; width: 32px; height: 32px; }
  .msg { gap: .5em; }
}
@media print { .top, .pager, .skip { display: none; } }
)CSS";
}

const char* ArchiveJs() {
  return R"JS(/* Ferry archive: local times, spoilers and offline search. Never fetches anything: the search index is
   loaded as <script> files from search/ (file:// pages cannot fetch JSON). Text from the archive is only ever
   put into the page with textContent. */
(function () {
  'use strict';

  function formatTime(d, style) {
    var o;
    switch (style) {
      case 't': o = { hour: '2-digit', minute: '2-digit' }; break;
      case 'T': o = { hour: '2-digit', minute: '2-digit', second: '2-digit' }; break;
      case 'd': o = { year: 'numeric', month: '2-digit', day: '2-digit' }; break;
      case 'D': o = { year: 'numeric', month: 'long', day: 'numeric' }; break;
      case 'F': o = { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' }; break;
      case 'R': return relative(d);
      default: o = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
    }
    try { return d.toLocaleString(undefined, o); } catch (e) { return d.toString(); }
  }
  function relative(d) {
    var s = (d.getTime() - Date.now()) / 1000, a = Math.abs(s);
    var units = [[60, 'second', 1], [3600, 'minute', 60], [86400, 'hour', 3600], [2592000, 'day', 86400],
                 [31536000, 'month', 2592000], [Infinity, 'year', 31536000]];
    for (var i = 0; i < units.length; i++) {
      if (a < units[i][0]) {
        var v = Math.round(s / units[i][2]);
        try { return new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }).format(v, units[i][1]); }
        catch (e) { return d.toLocaleString(); }
      }
    }
    return d.toLocaleString();
  }
  function localizeTimes(root) {
    var list = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < list.length; i++) {
      var t = list[i], d = new Date(t.getAttribute('datetime'));
      if (isNaN(d.getTime())) continue;
      t.textContent = formatTime(d, t.getAttribute('data-style') || 'f');
      t.title = d.toString();
    }
  }

  function reveal(e) {
    var el = e.target && e.target.closest ? e.target.closest('.spoiler') : null;
    if (!el || el.classList.contains('revealed')) return;
    if (e.type === 'keydown' && e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    el.classList.add('revealed');
    el.removeAttribute('role');
    el.removeAttribute('aria-label');
  }
  document.addEventListener('click', reveal);
  document.addEventListener('keydown', reveal);

  /* ---- search (mirrors exporters/html/search_index.cpp exactly) ---- */
  function isSep(cp) {
    if (cp < 0x80) return !((cp >= 48 && cp <= 57) || (cp >= 97 && cp <= 122) || (cp >= 65 && cp <= 90));
    if (cp <= 0xBF || cp === 0xD7 || cp === 0xF7) return true;
    if (cp >= 0x2000 && cp <= 0x2BFF) return true;
    if (cp >= 0x3000 && cp <= 0x303F) return true;
    if ((cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFF00 && cp <= 0xFF0F) || cp === 0xFFFD) return true;
    if (cp >= 0x1F000 && cp <= 0x1FAFF) return true;
    if (cp >= 0xD800 && cp <= 0xDFFF) return true;
    return cp >= 0xE0000;
  }
  function fold(cp) {
    if (cp >= 65 && cp <= 90) return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp !== 0xD7) return cp + 32;
    if (cp >= 0x391 && cp <= 0x3A9 && cp !== 0x3A2) return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    return cp;
  }
  function u8len(cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }
  function tokenize(text, maxBytes) {
    var out = [], seen = {}, cur = '', bytes = 0, cut = false;
    function flush() {
      if (bytes > 1 && !seen[cur]) { seen[cur] = 1; out.push(cur); }
      cur = ''; bytes = 0; cut = false;
    }
    for (var ch of text) {
      var cp = ch.codePointAt(0);
      if (isSep(cp)) { flush(); continue; }
      if (cut) continue;
      cp = fold(cp);
      if (bytes + u8len(cp) > maxBytes) { cut = true; continue; }
      cur += String.fromCodePoint(cp); bytes += u8len(cp);
    }
    flush();
    return out;
  }
  function hash(token) {
    var b = new TextEncoder().encode(token), h = 2166136261;
    for (var i = 0; i < b.length; i++) { h ^= b[i]; h = Math.imul(h, 16777619) >>> 0; }
    return h >>> 0;
  }

  var FS = window.FerrySearch = window.FerrySearch || {};
  var loaded = {}, waiting = {};
  function done(key) {
    loaded[key] = true;
    var w = waiting[key] || [];
    delete waiting[key];
    w.forEach(function (f) { f(true); });
  }
  FS.meta = function (m) { FS._meta = m; done('meta'); };
  FS._shards = {}; FS._docs = {};
  FS.shard = function (h, o) { FS._shards[h] = o; done('t' + h); };
  FS.docs = function (k, a) { FS._docs[k] = a; done('d' + k); };
  function load(key, cb) {
    if (loaded[key]) { cb(true); return; }
    var first = !waiting[key];
    (waiting[key] = waiting[key] || []).push(cb);
    if (!first) return;
    var s = document.createElement('script');
    s.src = 'search/' + key + '.js';
    s.onerror = function () { var w = waiting[key] || []; delete waiting[key]; w.forEach(function (f) { f(false); }); };
    document.head.appendChild(s);
  }
  function loadAll(keys, cb) {
    var left = keys.length, ok = true;
    if (!left) { cb(true); return; }
    keys.forEach(function (k) { load(k, function (r) { ok = ok && r; if (--left === 0) cb(ok); }); });
  }
  function postings(list) {
    var out = [], prev = 0;
    if (!list) return out;
    var parts = list.split(',');
    for (var i = 0; i < parts.length; i++) { prev += parseInt(parts[i], 36); out.push(prev); }
    return out;
  }
  function intersect(a, b) {
    var out = [], i = 0, j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) { out.push(a[i]); i++; j++; } else if (a[i] < b[j]) i++; else j++;
    }
    return out;
  }
  FS.tokenize = tokenize; FS.hash = hash;
  FS.query = function (q, cb) {
    var m = FS._meta;
    if (!m) { cb({ error: 'The search index is missing (search/meta.js).' }); return; }
    var toks = tokenize(q, m.maxTokenBytes);
    if (!toks.length) { cb({ hits: [], tokens: [] }); return; }
    var keys = toks.map(function (t) { return 't' + (hash(t) & (m.shards - 1)); });
    loadAll(keys, function (ok) {
      if (!ok) { cb({ error: 'Part of the search index could not be loaded.' }); return; }
      var lists = toks.map(function (t) {
        var sh = FS._shards[hash(t) & (m.shards - 1)] || {};
        return postings(Object.prototype.hasOwnProperty.call(sh, t) ? sh[t] : '');
      });
      lists.sort(function (a, b) { return a.length - b.length; });
      var hits = lists[0];
      for (var i = 1; i < lists.length && hits.length; i++) hits = intersect(hits, lists[i]);
      cb({ hits: hits.slice().reverse(), tokens: toks });
    });
  };
  FS.docsFor = function (nums, cb) {
    var per = FS._meta.docsPerFile, keys = {};
    nums.forEach(function (n) { keys['d' + Math.floor(n / per)] = 1; });
    loadAll(Object.keys(keys), function (ok) {
      cb(nums.map(function (n) { var f = FS._docs[Math.floor(n / per)]; return f ? f[n % per] : null; }));
    });
  };

  function searchPage() {
    var results = document.getElementById('search-results');
    if (!results) return;
    var status = document.getElementById('search-status'), more = document.getElementById('search-more');
    var input = document.querySelector('.search input[name=q]');
    var params = new URLSearchParams(location.search || (location.hash ? location.hash.slice(1) : ''));
    var q = params.get('q') || '';
    if (input) input.value = q;
    if (!q) return;
    var started = performance.now(), hits = [], shown = 0, PAGE = 50;
    function render() {
      var slice = hits.slice(shown, shown + PAGE);
      FS.docsFor(slice, function (docs) {
        var m = FS._meta;
        docs.forEach(function (d) {
          if (!d) return;
          var ch = m.channels[d[0]] || ['?', '', ''];
          var li = document.createElement('li');
          var a = document.createElement('a');
          a.href = ch[2] + d[2] + '.html#m' + d[1];
          a.className = 'hit';
          a.textContent = d[5] || '(no text)';
          var where = document.createElement('div');
          where.className = 'where';
          where.textContent = (d[3] || 'Unknown user') + ' in ' + ch[0] + (ch[1] ? ' (' + ch[1] + ')' : '') + ' · ' +
            formatTime(new Date(d[4]), 'f');
          li.appendChild(a); li.appendChild(where);
          results.appendChild(li);
        });
        shown += slice.length;
        more.hidden = shown >= hits.length;
      });
    }
    status.textContent = 'Searching…';
    FS.query(q, function (r) {
      if (r.error) { status.textContent = r.error; return; }
      hits = r.hits;
      var ms = Math.round(performance.now() - started);
      document.body.setAttribute('data-search-ms', String(ms));
      status.textContent = hits.length === 0 ? 'No messages match “' + q + '”.' :
        hits.length + (hits.length === 1 ? ' message matches' : ' messages match') + ' “' + q + '” (' + ms + ' ms).';
      render();
    });
    more.addEventListener('click', render);
  }

  function init() {
    localizeTimes(document);
    var status = document.getElementById('search-status');
    if (status && status.getAttribute('data-index') === '1') {
      load('meta', function (ok) {
        if (ok) searchPage(); else status.textContent = 'The search index is missing (search/meta.js).';
      });
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
)JS";
}

}  // namespace ferry::html
