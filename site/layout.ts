/** The page shell: header (menu, search, theme toggle), sidebar, content, table of contents, prev/next. */
import {escapeHtml} from './code';
import type {Heading} from './markdown';

export interface NavItem { url: string; title: string; short: string }

export interface PageSpec {
  url: string;               // site-relative, e.g. 'chapters/01-attention.html'
  title: string;
  description: string;
  body: string;
  headings?: Heading[];
  chapters: NavItem[];
  libs: NavItem[];
  prev?: NavItem;
  next?: NavItem;
  extraScripts?: string[];   // site-relative script paths
  actions?: string;          // HTML placed under the title row (download link etc.)
  kind: 'home' | 'chapter' | 'lib' | 'other';
  /** the repository (package.json "repository") and this page's file in it: edit / report links */
  repo?: {url: string; file?: string};
  /** footer: package version and build date */
  build?: {version: string; date: string; teacher?: boolean};
  /** absolute asset paths (the 404 page, served at any depth) */
  absolute?: boolean;
  basePath?: string;
}

export function prefixFor(url: string): string {
  const depth = url.split('/').length - 1;
  return depth === 0 ? '' : '../'.repeat(depth);
}

const THEME_BOOT = `(function(){try{var t=localStorage.getItem('course-theme');}catch(e){}if(t!=='light'&&t!=='dark'){t=window.matchMedia&&matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light';}document.documentElement.dataset.theme=t;})();`;

const SITE_NAME = 'Attention, Transformers and ViT in TypeScript';

/** A heading's HTML for the table of contents: its math kept, links and anchors dropped. */
const tocHtmlOf = (h: Heading): string => h.html ? h.html.replace(/<\/?a\b[^>]*>/g, '') : escapeHtml(h.text);

export function layout(p: PageSpec): string {
  const pre = p.absolute ? (p.basePath ?? '/') : prefixFor(p.url);
  const link = (u: string) => pre + u;
  const navList = (items: NavItem[]) => items.map(i =>
    `<li><a href="${link(i.url)}"${i.url === p.url ? ' aria-current="page"' : ''}>${escapeHtml(i.short)}</a></li>`).join('');
  const toc = (p.headings ?? []).filter(h => h.level === 2 || h.level === 3);
  const tocList = `<ul>${toc.map(h => `<li class="toc-l${h.level}"><a href="#${h.id}">${tocHtmlOf(h)}</a></li>`).join('')}</ul>`;
  const tocHtml = toc.length > 0 ? `<nav class="toc" id="toc" aria-label="On this page"><h2 class="toc-title">On this page</h2>${tocList}</nav>` : '';
  // below 1180 px the side column is gone: the same list, collapsible, at the top of the page
  const tocInline = toc.length > 0 ? `<details class="toc-inline"><summary>On this page</summary><nav aria-label="On this page (contents)">${tocList}</nav></details>` : '';
  const repoLinks = p.repo ? `<p class="repo-links">` +
    (p.repo.file ? `<a href="${p.repo.url}/edit/main/${p.repo.file}">Edit this page</a> · ` : '') +
    `<a href="${p.repo.url}/issues/new?title=${encodeURIComponent(`${p.kind === 'lib' ? p.title : `Site: ${p.title}`}: `)}&amp;body=${encodeURIComponent(`Page: ${p.url}\n\n`)}">Report a problem</a> · ` +
    `<a href="${p.repo.url}">Source code</a></p>` : '';
  const meta = [
    ['og:title', p.title], ['og:description', p.description], ['og:type', p.kind === 'chapter' ? 'article' : 'website'], ['og:site_name', SITE_NAME],
  ].map(([k, v]) => `<meta property="${k}" content="${escapeHtml(v!)}">`).join('\n') +
    `\n<meta name="twitter:card" content="summary">\n<meta name="twitter:title" content="${escapeHtml(p.title)}">\n<meta name="twitter:description" content="${escapeHtml(p.description)}">`;
  const footer = `<footer class="footer"><p>Built from the executed notebooks${p.build ? ` · version ${escapeHtml(p.build.version)} · built ${escapeHtml(p.build.date)}${p.build.teacher ? ' · teacher build (reference solutions withheld)' : ''}` : ''}` +
    `${p.repo ? ` · <a href="${p.repo.url}">${escapeHtml(p.repo.url.replace(/^https?:\/\//, ''))}</a>` : ''}. Run it yourself: <code>npm run course</code>.</p></footer>`;
  const pager = p.prev || p.next ? `<nav class="pager" aria-label="Previous and next chapter">` +
    (p.prev ? `<a class="prev" rel="prev" href="${link(p.prev.url)}"><span>← Previous</span>${escapeHtml(p.prev.title)}</a>` : '<span></span>') +
    (p.next ? `<a class="next" rel="next" href="${link(p.next.url)}"><span>Next →</span>${escapeHtml(p.next.title)}</a>` : '<span></span>') + `</nav>` : '';
  const scripts = ['assets/site.js', ...(p.extraScripts ?? [])].map(s => `<script src="${link(s)}" defer></script>`).join('\n');
  return `<!doctype html>
<html lang="en" data-root="${pre || './'}"${p.build?.teacher ? ' data-build="teacher"' : ''}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)} · ${SITE_NAME}</title>
<meta name="description" content="${escapeHtml(p.description)}">
${meta}
<meta name="color-scheme" content="light dark">
<script>${THEME_BOOT}</script>
<link rel="icon" href="${link('assets/favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${link('assets/katex/katex.min.css')}">
<link rel="stylesheet" href="${link('assets/site.css')}">
${scripts}
</head>
<body class="page-${p.kind}">
<a class="skip" href="#content">Skip to content</a>
<header class="topbar">
  <button class="menu-toggle" type="button" aria-controls="sidebar" aria-expanded="false" aria-label="Show navigation">☰</button>
  <a class="brand" href="${link('index.html')}">Attention → ViT <span class="brand-sub">in TypeScript</span></a>
  <div class="search" role="search">
    <label class="visually-hidden" for="search-input">Search the course</label>
    <input id="search-input" type="search" placeholder="Search…" autocomplete="off" aria-controls="search-results" aria-autocomplete="list" data-index="${link('search-index.json')}">
    <div id="search-results" class="search-results" role="listbox" aria-label="Search results" hidden></div>
  </div>
  <button class="theme-toggle" type="button" aria-label="Switch to dark theme" title="Toggle light/dark theme"><span aria-hidden="true" class="theme-icon"></span></button>
</header>
<div class="layout${tocHtml ? ' has-toc' : ''}">
<nav class="sidebar" id="sidebar" aria-label="Course">
  <p class="side-title"><a href="${link('index.html')}"${p.url === 'index.html' ? ' aria-current="page"' : ''}>Overview</a></p>
  <p class="side-title">Chapters</p>
  <ol class="side-chapters">${navList(p.chapters)}</ol>
  <details class="side-lib"${p.kind === 'lib' ? ' open' : ''}><summary>Library source</summary><ul>${navList(p.libs)}</ul></details>
</nav>
<main id="content" class="content" tabindex="-1">
${p.actions ?? ''}
${tocInline && p.body.includes('</h1>') ? p.body.replace('</h1>', `</h1>${tocInline}`) : tocInline + p.body}
${repoLinks}
${pager}
</main>
${tocHtml}
</div>
${footer}
</body>
</html>
`;
}
