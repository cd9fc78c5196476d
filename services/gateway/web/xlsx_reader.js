// Reads the first worksheet of an XLSX file in the page, as rows of text,
// for the upload page to send as CSV to StatsService.ImportReports:
//
//   const rows = await SMZXlsx.read(await file.arrayBuffer());  // [{line, cells}]
//   const csv = SMZXlsx.toCsv(rows);                             // line N = sheet row N
//
// Why in the page and not on the server: the services then never parse
// untrusted ZIP or XML (no zip bombs, no XML entity tricks reach them); the
// browser's own DecompressionStream and DOMParser do the work, so nothing
// is written by hand but the ZIP directory walk; and the service checks the
// result exactly as it checks a CSV, with the same errors by line. Hard
// limits bound what a hostile file can make this page do.
"use strict";
const SMZXlsx = (() => {
  const LIMITS = {
    fileBytes: 16 << 20,   // the file as uploaded
    entries: 4096,         // ZIP entries
    entryBytes: 32 << 20,  // one part, inflated (counted while inflating)
    rows: 100000,
    columns: 64,
    cellChars: 32767,      // Excel's own cell limit
    cells: 2000000,        // every row's cells together
    csvBytes: 1000000,     // the CSV made of them (the gateway's body limit)
  };
  class XlsxError extends Error {}
  const fail = (message) => { throw new XlsxError(message); };

  // The central directory: name -> {method, size, offset}.
  function directory(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let end = -1;
    for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); --i) {
      if (view.getUint32(i, true) === 0x06054b50) { end = i; break; }
    }
    if (end < 0) fail("not an XLSX file (no ZIP directory)");
    const count = view.getUint16(end + 10, true);
    let at = view.getUint32(end + 16, true);
    if (count > LIMITS.entries) fail("too many parts in the file");
    const entries = new Map();
    const names = new TextDecoder("utf-8");
    for (let n = 0; n < count; ++n) {
      if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) fail("damaged ZIP directory");
      const method = view.getUint16(at + 10, true);
      const compressed = view.getUint32(at + 20, true);
      const nameLength = view.getUint16(at + 28, true);
      const extra = view.getUint16(at + 30, true);
      const comment = view.getUint16(at + 32, true);
      const offset = view.getUint32(at + 42, true);
      if (compressed === 0xffffffff || offset === 0xffffffff) fail("ZIP64 files are not supported");
      const name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength));
      entries.set(name, { method, compressed, offset });
      at += 46 + nameLength + extra + comment;
    }
    return { view, entries };
  }

  // One part's text, inflated by the browser, never beyond the limit.
  async function part(bytes, zip, name) {
    const entry = zip.entries.get(name);
    if (!entry) return null;
    const at = entry.offset;
    if (at + 30 > bytes.length || zip.view.getUint32(at, true) !== 0x04034b50) fail("damaged ZIP entry " + name);
    const start = at + 30 + zip.view.getUint16(at + 26, true) + zip.view.getUint16(at + 28, true);
    const data = bytes.subarray(start, start + entry.compressed);
    if (data.length !== entry.compressed) fail("truncated ZIP entry " + name);
    let out;
    if (entry.method === 0) {
      out = data;
    } else if (entry.method === 8) {
      const reader = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
      const chunks = [];
      let total = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > LIMITS.entryBytes) { reader.cancel(); fail("a part of the file is too large once unpacked"); }
        chunks.push(value);
      }
      out = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) { out.set(c, o); o += c.length; }
    } else {
      fail("unsupported compression in " + name);
    }
    const text = new TextDecoder("utf-8").decode(out);
    // No document type declarations: nothing for an entity to hide in.
    if (/<!DOCTYPE/i.test(text)) fail("unexpected DOCTYPE in " + name);
    const doc = new DOMParser().parseFromString(text, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) fail("damaged XML in " + name);
    return doc;
  }

  const byLocalName = (node, name) => [...node.getElementsByTagNameNS("*", name)];
  const cellText = (text) => {
    if (text.length > LIMITS.cellChars) fail("a cell holds more than " + LIMITS.cellChars + " characters");
    return text;
  };
  // "AB12" -> 27 (0-based column).
  function column(ref) {
    const letters = /^([A-Z]{1,3})\d*$/.exec(ref || "");
    if (!letters) return -1;
    let n = 0;
    for (const ch of letters[1]) n = n * 26 + (ch.charCodeAt(0) - 64);
    return n - 1;
  }
  // Excel keeps whole numbers as "5" or "1500000", sometimes "1.5E+6".
  function number(v) {
    if (/^-?\d+$/.test(v)) return v;
    const n = Number(v);
    return Number.isSafeInteger(n) ? String(n) : v;
  }

  async function read(buffer) {
    if (buffer.byteLength > LIMITS.fileBytes) fail("the file is larger than 16 MiB");
    const bytes = new Uint8Array(buffer);
    const zip = directory(bytes);
    const workbook = await part(bytes, zip, "xl/workbook.xml");
    if (!workbook) fail("not an XLSX workbook (no xl/workbook.xml)");
    const first = byLocalName(workbook, "sheet")[0];
    if (!first) fail("the workbook has no sheet");
    const relation = [...first.attributes].find((a) => a.localName === "id")?.value;
    const rels = await part(bytes, zip, "xl/_rels/workbook.xml.rels");
    const target = rels && byLocalName(rels, "Relationship").find((r) => r.getAttribute("Id") === relation);
    if (!target) fail("the first sheet's part is not named");
    let path = target.getAttribute("Target") || "";
    path = path.startsWith("/") ? path.slice(1) : "xl/" + path;
    const sheet = await part(bytes, zip, path);
    if (!sheet) fail("the first sheet is missing");

    const strings = [];
    const shared = await part(bytes, zip, "xl/sharedStrings.xml");
    if (shared) {
      for (const si of byLocalName(shared, "si")) {
        // Phonetic guides (rPh) are not part of the text.
        strings.push(cellText(byLocalName(si, "t").filter((t) => t.parentNode.localName !== "rPh")
            .map((t) => t.textContent).join("")));
      }
    }
    const rows = [];
    let next = 1;
    let cellCount = 0;
    for (const row of byLocalName(sheet, "row")) {
      // Row numbers only go up, so that the service's line numbers are
      // the sheet's.
      const line = row.hasAttribute("r") ? Number(row.getAttribute("r")) : next;
      if (!Number.isInteger(line) || line < next) fail("rows out of order near row " + next);
      next = line + 1;
      if (line > LIMITS.rows) fail("more than " + LIMITS.rows + " rows");
      const cells = [];
      let index = 0;
      for (const c of byLocalName(row, "c")) {
        if (++cellCount > LIMITS.cells) fail("more than " + LIMITS.cells + " cells");
        const at = c.getAttribute("r") ? column(c.getAttribute("r")) : index;
        if (at < 0 || at >= LIMITS.columns) fail("a cell beyond column " + LIMITS.columns + " (row " + line + ")");
        index = at + 1;
        const type = c.getAttribute("t") || "n";
        const v = byLocalName(c, "v")[0]?.textContent ?? "";
        let value;
        if (type === "s") {
          const i = Number(v);
          if (!Number.isInteger(i) || i < 0 || i >= strings.length) fail("a cell names a missing shared string (row " + line + ")");
          value = strings[i];
        } else if (type === "inlineStr") {
          value = byLocalName(c, "t").map((t) => t.textContent).join("");
        } else if (type === "b") {
          value = v === "1" ? "TRUE" : "FALSE";
        } else if (type === "n") {
          value = number(v);
        } else if (type === "e") {
          fail("row " + line + " holds a formula error (" + v + "): correct it in the sheet");
        } else {
          value = v;
        }
        cells[at] = cellText(value);
      }
      rows.push({ line, cells: Array.from(cells, (x) => x ?? "") });
    }
    return rows;
  }

  // Quoted when a reader would split it, or take a leading '#' for a
  // comment line (a row would vanish).
  const field = (text) => (/[",\r\n]/.test(text) || text.startsWith("#") ? '"' + text.replace(/"/g, '""') + '"' : text);
  // One CSV line per sheet row, blank lines for empty rows, so that the
  // service's line numbers are the sheet's row numbers; never more than the
  // gateway takes.
  function toCsv(rows) {
    const lines = [];
    // Characters, which are never more than the UTF-8 bytes.
    let characters = 0;
    const add = (line) => {
      characters += line.length + 1;
      if (characters > LIMITS.csvBytes) fail("the sheet is too large to upload at once: split it by months");
      lines.push(line);
    };
    for (const row of rows) {
      while (lines.length < row.line - 1) add("");
      // A row of formatting only (cells without values) is an empty line.
      add(row.cells.every((c) => c === "") ? "" : row.cells.map(field).join(","));
    }
    return lines.join("\n") + "\n";
  }

  return { read, toCsv, XlsxError, LIMITS };
})();
