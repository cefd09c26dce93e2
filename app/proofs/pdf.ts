import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFRawStream,
  PDFString,
  PDFHexString,
  StandardFonts,
  decodePDFRawStream,
  rgb,
  type PDFFont,
  type PDFPage,
} from 'pdf-lib';
import { CustosError } from '../errors/index.ts';
import type { UsageProof } from './bundle.ts';
import { TIMESTAMP_INDEX, headerQuantity } from './eth.ts';

/** The file name of the bundle inside the PDF. */
export const PDF_ATTACHMENT_NAME = 'usage-proof.json';

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 48;
const RED = rgb(0.72, 0.05, 0.05);
const GREY = rgb(0.35, 0.35, 0.35);
const BLACK = rgb(0, 0, 0);

/** Standard PDF fonts only carry WinAnsi: the few typographic characters we use become ASCII. */
function safe(text: string): string {
  return text
    .replace(/…/g, '...')
    .replace(/[’‘]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[–—]/g, '-')
    .replace(/→/g, '->')
    .replace(/[^\x20-\x7e\xa0-\xff]/g, '?');
}
const short = (hex: string, n = 10): string =>
  hex.length > n + 4 ? `${hex.slice(0, n)}...${hex.slice(-4)}` : hex;
const when = (unix: number): string =>
  new Date(unix * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';

class Writer {
  readonly doc: PDFDocument;
  readonly regular: PDFFont;
  readonly bold: PDFFont;
  readonly mono: PDFFont;
  page!: PDFPage;
  y = 0;
  pages = 0;
  constructor(doc: PDFDocument, regular: PDFFont, bold: PDFFont, mono: PDFFont) {
    this.doc = doc;
    this.regular = regular;
    this.bold = bold;
    this.mono = mono;
    this.newPage();
  }
  newPage(): void {
    this.page = this.doc.addPage([A4.width, A4.height]);
    this.pages += 1;
    this.y = A4.height - MARGIN;
    this.page.drawText(safe(`Custos usage proof - page ${this.pages}`), {
      x: MARGIN,
      y: 24,
      size: 8,
      font: this.regular,
      color: GREY,
    });
  }
  need(height: number): void {
    if (this.y - height < MARGIN) this.newPage();
  }
  text(
    value: string,
    o: { size?: number; font?: PDFFont; color?: ReturnType<typeof rgb>; indent?: number } = {},
  ): void {
    const size = o.size ?? 10;
    const font = o.font ?? this.regular;
    const width = A4.width - 2 * MARGIN - (o.indent ?? 0);
    for (const line of wrap(safe(value), font, size, width)) {
      this.need(size * 1.35);
      this.y -= size * 1.35;
      this.page.drawText(line, {
        x: MARGIN + (o.indent ?? 0),
        y: this.y,
        size,
        font,
        color: o.color ?? BLACK,
      });
    }
  }
  gap(h = 8): void {
    this.y -= h;
  }
  heading(value: string): void {
    this.gap(10);
    this.need(40);
    this.text(value, { size: 13, font: this.bold });
    this.gap(2);
  }
  /** A table row: cells at fixed x offsets (fractions of the width); a cell may be red. */
  row(
    cells: { text: string; red?: boolean; mono?: boolean }[],
    widths: number[],
    header = false,
  ): void {
    const size = 7.5;
    this.need(size * 1.6);
    this.y -= size * 1.6;
    let x = MARGIN;
    const total = A4.width - 2 * MARGIN;
    cells.forEach((c, i) => {
      const font = header ? this.bold : c.mono ? this.mono : c.red ? this.bold : this.regular;
      const w = (widths[i] ?? 0) * total;
      let t = safe(c.text);
      while (t.length > 1 && font.widthOfTextAtSize(t, size) > w - 4) t = t.slice(0, -1);
      this.page.drawText(t, { x, y: this.y, size, font, color: c.red ? RED : BLACK });
      x += w;
    });
    if (header)
      this.page.drawLine({
        start: { x: MARGIN, y: this.y - 2 },
        end: { x: A4.width - MARGIN, y: this.y - 2 },
        thickness: 0.5,
        color: GREY,
      });
  }
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      const next = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(next, size) <= width || !line) line = next;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/**
 * A PDF report of a usage-proof bundle for people — dataset, period, grants and revocations, a
 * table of runs, the anomalies, how to verify — with the bundle's JSON attached
 * (`usage-proof.json`), so one file carries both. Simulated attestation evidence is marked
 * SIMULATED in red wherever it appears.
 */
export async function usageProofPdf(
  bundle: UsageProof,
  json: string = JSON.stringify(bundle, null, 2),
): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const created = new Date(bundle.createdAt);
  doc.setTitle(`Custos usage proof ${bundle.datasetId}`);
  doc.setSubject(
    'Usage proof of a dataset: registry events with receipt proofs, enclave results, key-release journal',
  );
  doc.setProducer('Custos');
  doc.setCreator('custos proof export');
  doc.setCreationDate(created);
  doc.setModificationDate(created);
  const w = new Writer(
    doc,
    await doc.embedFont(StandardFonts.Helvetica),
    await doc.embedFont(StandardFonts.HelveticaBold),
    await doc.embedFont(StandardFonts.Courier),
  );

  const timeOf = new Map(
    bundle.blocks.map((b) => [b.number, headerQuantity(b.header, TIMESTAMP_INDEX)]),
  );
  const txOf = new Map(bundle.receipts.map((r) => [`${r.block}/${r.txIndex}`, r.txHash]));
  const grants = new Map<string, Record<string, string | string[]>>();
  for (const e of bundle.events)
    if (e.name === 'GrantCreated') grants.set(String(e.args['grantId']), e.args);
  const simulated =
    bundle.runs.some((r) => r.teeType === 'simulated') ||
    bundle.evidence.some((e) => e.teeType === 'simulated');

  w.text('Usage proof', { size: 20, font: w.bold });
  w.gap(4);
  w.text(`Dataset ${bundle.datasetId}`, { size: 10, font: w.mono });
  w.gap(6);
  const period = `${bundle.period.from ?? 'registration'} to ${bundle.period.to ?? 'export'} (blocks ${bundle.blockRange.from}-${bundle.blockRange.to})`;
  for (const [k, v] of [
    ['Period', period],
    ['Chain', `chain id ${bundle.chainId}, registry ${bundle.registry}`],
    ['Exported', bundle.createdAt],
    [
      'Contents',
      `${bundle.events.filter((e) => !e.context).length} events in the period (+${bundle.events.filter((e) => e.context && !e.linked).length} earlier for context), ${bundle.runs.length} runs${bundle.linkedRuns?.length ? ` (+${bundle.linkedRuns.length} linked runs of other datasets)` : ''}, ${bundle.journal?.entries.length ?? 0} journal entries, ${bundle.anomalies.length} anomalies`,
    ],
  ] as const)
    w.text(`${k}: ${v}`, { size: 9 });
  if (simulated) {
    const size = 9;
    const message =
      'SIMULATED: some runs in this report used the simulated enclave. Its evidence proves nothing about real hardware; it is only acceptable on a development network.';
    const lines = wrap(safe(message), w.bold, size, A4.width - 2 * MARGIN - 16);
    const height = lines.length * size * 1.35 + 10;
    w.gap(8);
    w.need(height);
    w.page.drawRectangle({
      x: MARGIN,
      y: w.y - height,
      width: A4.width - 2 * MARGIN,
      height,
      borderColor: RED,
      borderWidth: 1.5,
      color: rgb(1, 0.93, 0.93),
    });
    w.y -= 4;
    for (const line of lines) w.text(line, { size, font: w.bold, color: RED, indent: 8 });
    w.y -= 8;
  }

  w.heading('Grants and revocations');
  const widthsG = [0.2, 0.16, 0.24, 0.4];
  w.row(
    [{ text: 'Time' }, { text: 'Event' }, { text: 'Grant' }, { text: 'Details' }],
    widthsG,
    true,
  );
  for (const e of bundle.events) {
    const t = when(timeOf.get(e.block) ?? 0);
    const a = e.args;
    let details: string | undefined;
    let grant = '';
    if (e.name === 'GrantCreated') {
      grant = String(a['grantId']);
      details = `to ${short(String(a['grantee']), 12)}, ${String(a['maxRuns'])} runs, until ${when(Number(a['notAfter']))}`;
    } else if (e.name === 'GrantRevoked') {
      grant = String(a['grantId']);
      details = 'revoked';
    } else if (e.name === 'AllGrantsRevoked')
      details = `every grant revoked (epoch ${String(a['newEpoch'])})`;
    else if (e.name === 'Frozen' || e.name === 'Unfrozen') details = e.name.toLowerCase();
    else if (e.name === 'DatasetRegistered')
      details = `registered by ${short(String(a['owner']), 12)}`;
    else if (e.name === 'OperatorSet') details = `operator ${short(String(a['operator']), 12)}`;
    else if (e.name === 'DatasetOwnershipTransferred')
      details = `new owner ${short(String(a['newOwner']), 12)}`;
    if (details === undefined) continue;
    w.row(
      [
        { text: t },
        { text: e.name },
        { text: grant ? short(grant, 14) : '-', mono: true },
        { text: `${details}${e.context ? ' (before the period)' : ''}` },
      ],
      widthsG,
    );
  }

  w.heading('Runs');
  const widthsR = [0.2, 0.15, 0.16, 0.11, 0.19, 0.19];
  w.row(
    [
      { text: 'Opened' },
      { text: 'Grantee' },
      { text: 'App measurement' },
      { text: 'TEE' },
      { text: 'Result hash' },
      { text: 'Transaction' },
    ],
    widthsR,
    true,
  );
  for (const run of bundle.runs) {
    const opened = bundle.events.find(
      (e) => e.name === 'RunOpened' && e.args['runId'] === run.runId,
    );
    const grant = grants.get(run.grantId);
    const tee =
      run.teeType === 'simulated' ? 'SIMULATED' : (run.teeType?.toUpperCase() ?? 'unknown');
    w.row(
      [
        { text: opened ? when(timeOf.get(opened.block) ?? 0) : '-' },
        { text: grant ? short(String(grant['grantee']), 8) : short(run.grantId, 8), mono: true },
        { text: opened ? short(String(opened.args['measurement']), 8) : '-', mono: true },
        { text: tee, red: run.teeType === 'simulated' },
        {
          text: run.resultHash ? short(run.resultHash, 10) : 'open (no result)',
          mono: run.resultHash !== null,
        },
        {
          text: opened ? short(txOf.get(`${opened.block}/${opened.txIndex}`) ?? '', 10) : '-',
          mono: true,
        },
      ],
      widthsR,
    );
    for (const l of bundle.linkedRuns ?? [])
      if (l.linkedTo === run.runId)
        w.text(
          `linked to run ${short(l.runId, 12)} of dataset ${short(l.datasetId, 12)} (grant ${short(l.grantId, 12)}): same enclave run (${l.by.join(', ')})`,
          { size: 7.5, indent: 12, color: GREY },
        );
  }
  if (bundle.runs.length === 0) w.text('No run in this period.', { size: 9, color: GREY });

  w.heading('Anomalies');
  if (bundle.anomalies.length === 0) w.text('None found.', { size: 9 });
  for (const a of bundle.anomalies) w.text(`- ${a.kind}: ${a.message}`, { size: 8.5, color: RED });

  if (bundle.evidence.length > 0) {
    w.heading('Attestation evidence');
    for (const e of bundle.evidence)
      w.text(
        `${e.teeType === 'simulated' ? 'SIMULATED ' : (e.teeType?.toUpperCase() ?? '')} evidence ${e.hash}${e.data ? ' (included)' : ' (hash only)'}`,
        {
          size: 8,
          font: e.teeType === 'simulated' ? w.bold : w.regular,
          color: e.teeType === 'simulated' ? RED : BLACK,
        },
      );
  }

  w.heading('How to verify');
  w.text(
    `This PDF carries the machine-readable proof as an attached file, ${PDF_ATTACHMENT_NAME} (open your PDF reader's attachments panel, or run: pdfdetach -save 1 report.pdf). Then, with Custos: custos proof verify ${PDF_ATTACHMENT_NAME} --rpc <any node of chain ${bundle.chainId}> --json, or offline with --trusted-blocks <file of block hashes you trust>. The verifier recomputes each block hash from its header, each receipt from its Merkle-Patricia proof against the block's receiptsRoot, decodes each registry event, checks each enclave signature against the run's enclave key, and checks the key-release journal's hash chain. Without Custos, docs/proofs.md describes every step; any Ethereum library can redo them.`,
    { size: 9 },
  );

  await doc.attach(new TextEncoder().encode(json), PDF_ATTACHMENT_NAME, {
    mimeType: 'application/json',
    description: 'Custos usage-proof bundle (verify with: custos proof verify)',
    creationDate: created,
    modificationDate: created,
  });
  return doc.save();
}

/**
 * Reads the bundle attached to a report made by `usageProofPdf` (the embedded file named
 * usage-proof.json), so `custos proof verify report.pdf` works on the one file.
 * @throws BundleMalformed when the PDF has no such attachment.
 */
export async function bundleFromPdf(pdf: Uint8Array): Promise<string> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(pdf, { updateMetadata: false });
  } catch (error) {
    throw new CustosError('BundleMalformed', 'the file is not a readable PDF', { cause: error });
  }
  const names = doc.catalog.lookupMaybe(PDFName.of('Names'), PDFDict);
  const embedded = names?.lookupMaybe(PDFName.of('EmbeddedFiles'), PDFDict);
  const list = embedded?.lookupMaybe(PDFName.of('Names'), PDFArray);
  for (let i = 0; list && i + 1 < list.size(); i += 2) {
    const name = list.lookup(i);
    const text =
      name instanceof PDFString || name instanceof PDFHexString ? name.decodeText() : undefined;
    if (text !== PDF_ATTACHMENT_NAME) continue;
    const spec = list.lookup(i + 1, PDFDict);
    const stream = spec.lookupMaybe(PDFName.of('EF'), PDFDict)?.lookup(PDFName.of('F'));
    if (stream instanceof PDFRawStream)
      return new TextDecoder().decode(decodePDFRawStream(stream).decode());
  }
  throw new CustosError('BundleMalformed', `the PDF has no ${PDF_ATTACHMENT_NAME} attachment`);
}
