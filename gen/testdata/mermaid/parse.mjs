// parse.mjs reads a JSON array of {name, text} Mermaid diagrams from the file named by its
// argument and writes, as a JSON array, what Mermaid's own parser makes of each: the error,
// or the nodes, edges and subgraphs with their labels as a browser shows them (entity codes
// decoded). Mermaid parses without a browser, but DOMPurify, which it loads, wants a DOM:
// jsdom's.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

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

const out = [];
for (const { name, text } of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
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
