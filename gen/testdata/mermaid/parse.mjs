// parse.mjs reads a JSON array of {name, text, markdown} from the file named by its argument
// and writes, as a JSON array, what the real tools make of each. A Mermaid diagram goes to
// Mermaid's own parser: the error, or the nodes, edges and subgraphs with their labels as a
// browser shows them (entity codes decoded). A Markdown document (markdown set) goes to
// markdown-it with raw HTML and links on, as a forge reads it: the elements the page would
// hold, its headings, tables (cells as text) and code blocks. Mermaid parses without a
// browser, but DOMPurify, which it loads, wants a DOM: jsdom's.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';
import markdownit from 'markdown-it';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

// shown is a label as the page shows it, a string per line: split at the <br> line breaks
// Mermaid draws, then Mermaid's placeholders for #code; put back as HTML entities (what its
// renderer does), and the entities decoded as the browser does.
function shown(s) {
  return String(s ?? '').split(/<br\s*\/?>/i).map((line) => {
    const ta = document.createElement('textarea');
    ta.innerHTML = line.replace(/ﬂ°°/g, '&#').replace(/ﬂ°/g, '&').replace(/¶ß/g, ';');
    return ta.value;
  });
}

// markdown renders a document and reads the page back.
function markdown(name, text) {
  const html = markdownit({ html: true, linkify: true }).render(text);
  const body = new JSDOM(html).window.document.body;
  const tags = [...new Set([...body.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()))].sort();
  const rows = (t) => [...t.querySelectorAll('tr')].map((r) => [...r.children].map((c) => c.textContent));
  return {
    name,
    tags,
    headings: [...body.querySelectorAll('h1, h2, h3')].map((h) => h.textContent),
    tables: [...body.querySelectorAll('table')].map(rows),
    code: [...body.querySelectorAll('pre > code')].map((c) => [c.className, c.textContent]),
  };
}

const out = [];
for (const { name, text, markdown: md } of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
  if (md) {
    out.push(markdown(name, text));
    continue;
  }
  try {
    await mermaid.parse(text);
    const d = await mermaid.mermaidAPI.getDiagramFromText(text);
    out.push({
      name,
      type: d.type,
      nodes: [...d.db.getVertices().values()].map((v) => [v.id, shown(v.text)]),
      edges: d.db.getEdges().map((e) => [e.start, e.end, shown(e.text)]),
      subgraphs: d.db.getSubGraphs().map((g) => [g.id, shown(g.title), g.nodes]),
    });
  } catch (e) {
    out.push({ name, error: String(e?.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(out));
