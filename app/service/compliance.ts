/**
 * The compliance officer's side of the API: export a usage proof of a registered dataset for a
 * period into the vault (`<vault>/exports/<name>_<period>_<time>/usage-proof.json` + `.pdf`, with
 * app/proofs), and verify a bundle someone hands over (offline checks always; anchored to the
 * running network when it is connected and on the bundle's chain). The service wires these
 * handlers with a small context (service.ts); the words for each check live in the renderer.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonRpcProvider } from 'ethers';
import type {
  ApiHandlers,
  Dataset,
  ProofExport,
  ProofProgress,
  ProofVerification,
} from '../api/index.ts';
import { CustosError, fromFsError } from '../errors/index.ts';
import {
  BUNDLE_FORMAT,
  CHECKS,
  bundleFromPdf,
  exportUsageProof,
  usageProofPdf,
  verifyUsageProof,
  type UsageProof,
  type VerifyReport,
} from '../proofs/index.ts';

/** What an export reads: the chain, the key-release journal and its evidence folder. */
export interface ProofSource {
  readonly chainId: number;
  readonly registry: string;
  readonly startBlock: number;
  readonly provider: JsonRpcProvider;
  readonly journalPath: string | null;
  readonly evidenceDir: string | null;
}

/** What the compliance handlers need from the service. */
export interface ComplianceContext {
  readonly vaultDir: string;
  /** Whether the network is a development network (simulated evidence is expected there). */
  readonly devnet: boolean;
  /** The dataset as the UI sees it. @throws VaultLocked, UnknownDataset */
  dataset(id: string): Promise<Dataset>;
  /** Every dataset of the vault (to name a verified bundle's dataset). @throws VaultLocked */
  datasets(): Promise<Dataset[]>;
  /** The running network, waiting while it starts. @throws RpcUnavailable */
  connected(): Promise<ProofSource>;
  /** The running network if it is up right now, else null (verify never waits for it). */
  current(): ProofSource | null;
  progress(p: ProofProgress): void;
}

export type ComplianceHandlers = Pick<ApiHandlers, 'exportProof' | 'readProofFile' | 'verifyProof'>;

const FILES = { json: 'usage-proof.json', pdf: 'usage-proof.pdf' } as const;

/** "Cardiology cohort 2024" → "cardiology-cohort-2024" (a folder name on every OS). */
function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return s || 'dataset';
}

function time(value: string | null, field: string): Date | undefined {
  if (value === null) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new CustosError('UsageError', `the “${field}” date is not a date`, {
      details: { [field]: value },
    });
  return date;
}

/** `2026-01-01-to-2026-03-31`, `from-2026-01-01`, `until-…`, `all-time` (UTC dates). */
function periodName(from: Date | undefined, until: Date | undefined): string {
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  if (from && until) return `${day(from)}-to-${day(until)}`;
  if (from) return `from-${day(from)}`;
  if (until) return `until-${day(until)}`;
  return 'all-time';
}

/** A new folder under `<vault>/exports` (never reuses one: an export is never overwritten). */
async function newExportFolder(vaultDir: string, base: string): Promise<string> {
  const root = join(vaultDir, 'exports');
  try {
    await mkdir(root, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fromFsError(error, root);
  }
  for (let i = 1; ; i += 1) {
    const name = i === 1 ? base : `${base}-${i}`;
    try {
      await mkdir(join(root, name), { mode: 0o700 });
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 100)
        throw fromFsError(error, join(root, name));
    }
  }
}

async function writeNew(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(path, data, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    throw fromFsError(error, path);
  }
}

/** Counts for people (the verifier checks the events; these only summarise them). */
function summaryOf(bundle: UsageProof): ProofExport['summary'] {
  const own = bundle.events.filter((e) => e.linked !== true && !e.context);
  const named = (...names: string[]): number => own.filter((e) => names.includes(e.name)).length;
  const refusals = (bundle.journal?.entries ?? []).filter((j) => {
    const r = j.record as Record<string, unknown> | null;
    return (
      r?.['decision'] === 'refused' &&
      typeof r['datasetId'] === 'string' &&
      r['datasetId'].toLowerCase() === bundle.datasetId
    );
  }).length;
  return {
    events: own.length,
    runs: named('RunOpened'),
    grants: named('GrantCreated'),
    revocations: named('GrantRevoked', 'AllGrantsRevoked'),
    refusals,
    anomalies: bundle.anomalies.length,
    linkedRuns: bundle.linkedRuns?.length ?? 0,
  };
}

/** Reads the bundle out of what the renderer sent. @throws UsageError, BundleMalformed */
async function bundleText(input: {
  fileName: string;
  json?: string | undefined;
  pdfBase64?: string | undefined;
}): Promise<{ text: string; fromPdf: boolean }> {
  if ((input.json === undefined) === (input.pdfBase64 === undefined))
    throw new CustosError('UsageError', 'send either the bundle’s JSON text or the PDF report');
  if (input.json !== undefined) return { text: input.json, fromPdf: false };
  const bytes = Buffer.from(input.pdfBase64 ?? '', 'base64');
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-')
    throw new CustosError('BundleMalformed', `“${input.fileName}” is not a PDF report`);
  return { text: await bundleFromPdf(bytes), fromPdf: true };
}

/** The verifier's report in the screen's terms. */
function verification(
  report: VerifyReport,
  fromPdf: boolean,
  anchorNote: string,
  datasets: readonly Dataset[],
): ProofVerification {
  const offline = report.anchor === 'none';
  // Offline, comparing with the chain (its id, its blocks) is not a failure of the bundle: it is a
  // check that was not made.
  const skipped = (check: string): boolean =>
    offline && (check === 'block-anchor' || check === 'chain');
  const failures = report.failures.filter((f) => !skipped(f.check));
  // A bundle that does not parse stops the verifier: the other checks were not made.
  const unparsed = report.checks.format.failed > 0;
  const checks = CHECKS.map((check) => {
    const c = report.checks[check];
    const failed = failures.filter((f) => f.check === check).length;
    const status =
      skipped(check) || (unparsed && check !== 'format')
        ? ('not-checked' as const)
        : failed > 0
          ? ('failed' as const)
          : c.checked === 0
            ? ('nothing-to-check' as const)
            : ('passed' as const);
    return { check, status, checked: skipped(check) ? 0 : c.checked, failed };
  });
  const scope = report.scope;
  return {
    verdict: failures.length > 0 ? 'failed' : offline ? 'unanchored' : 'verified',
    anchor: offline ? 'none' : 'network',
    anchorNote,
    fromPdf,
    events: report.events,
    checks,
    failures: failures.slice(0, 200).map((f) => ({
      check: f.check,
      subject: f.subject.slice(0, 300),
      reason: f.reason.slice(0, 1000),
    })),
    failuresTotal: failures.length,
    scope: scope
      ? {
          chainId: scope.chainId,
          registry: scope.registry,
          datasetId: scope.datasetId,
          datasetName:
            datasets.find((d) => d.chain.onChainId?.toLowerCase() === scope.datasetId)?.name ??
            null,
          period: { from: scope.period.from, until: scope.period.to },
          blockRange: scope.blockRange,
        }
      : null,
  };
}

/** The handlers of exportProof, readProofFile and verifyProof. */
export function complianceHandlers(ctx: ComplianceContext): ComplianceHandlers {
  return {
    /**
     * @throws UsageError (period ends before it starts), UnknownDataset, DatasetNotRegistered,
     * RpcUnavailable, PeriodEmpty, ReorgTooDeep, FileSystemError/DiskFull/PermissionDenied.
     */
    exportProof: async ({ datasetId, from: fromText, until: untilText }) => {
      const from = time(fromText, 'from');
      const until = time(untilText, 'until');
      if (from && until && until < from)
        throw new CustosError('UsageError', 'the period ends before it starts: pick a later end', {
          details: { from: fromText, until: untilText },
        });
      const d = await ctx.dataset(datasetId);
      if (!d.chain.registered || !d.chain.onChainId)
        throw new CustosError(
          'DatasetNotRegistered',
          `“${d.name}” is not registered on this network: there is no usage to prove`,
          { details: { datasetId } },
        );
      const onChainId = d.chain.onChainId;
      const source = await ctx.connected();
      const started = Date.now();
      const step = (stage: ProofProgress['stage']): void =>
        ctx.progress({ datasetId, stage, seconds: (Date.now() - started) / 1000 });
      try {
        step('reading');
        let bundle: UsageProof;
        try {
          bundle = await exportUsageProof(
            {
              provider: source.provider,
              chainId: source.chainId,
              registry: source.registry,
              startBlock: source.startBlock,
            },
            onChainId,
            {
              ...(from ? { from } : {}),
              ...(until ? { to: until } : {}),
              ...(source.journalPath ? { journalPath: source.journalPath } : {}),
              ...(source.evidenceDir ? { evidenceDir: source.evidenceDir } : {}),
              devnet: ctx.devnet,
            },
          );
        } catch (error) {
          if (error instanceof CustosError && error.tag === 'NotFound')
            throw new CustosError('PeriodEmpty', error.message, {
              cause: error,
              details: { datasetId },
            });
          throw error;
        }
        step('report');
        const json = `${JSON.stringify(bundle, null, 2)}\n`;
        const pdf = await usageProofPdf(bundle, json);
        step('saving');
        const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
        const folderName = await newExportFolder(
          ctx.vaultDir,
          `${slug(d.name)}_${periodName(from, until)}_${stamp}`,
        );
        const folder = join(ctx.vaultDir, 'exports', folderName);
        const jsonPath = join(folder, FILES.json);
        const pdfPath = join(folder, FILES.pdf);
        await writeNew(jsonPath, json);
        await writeNew(pdfPath, pdf);
        const result: ProofExport = {
          datasetId,
          datasetName: d.name,
          folder,
          folderName,
          jsonPath,
          pdfPath,
          jsonBytes: Buffer.byteLength(json),
          pdfBytes: pdf.byteLength,
          period: { from: bundle.period.from, until: bundle.period.to },
          blockRange: bundle.blockRange,
          summary: summaryOf(bundle),
          anomalies: bundle.anomalies
            .slice(0, 200)
            .map((a) => ({ kind: a.kind.slice(0, 60), message: a.message.slice(0, 1000) })),
          simulated:
            bundle.runs.some((r) => r.teeType === 'simulated') ||
            bundle.evidence.some((e) => e.teeType === 'simulated'),
          createdAt: bundle.createdAt,
          seconds: (Date.now() - started) / 1000,
        };
        step('done');
        return result;
      } catch (error) {
        step('failed');
        throw error;
      }
    },

    /** @throws VaultLocked, NotFound */
    readProofFile: async ({ folderName, file }) => {
      await ctx.datasets(); // the vault must be unlocked
      const path = join(ctx.vaultDir, 'exports', folderName, FILES[file]);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (error) {
        throw fromFsError(error, path);
      }
      return {
        name: `${folderName}.${file}`,
        mediaType: file === 'pdf' ? 'application/pdf' : 'application/json',
        base64: bytes.toString('base64'),
      };
    },

    /**
     * Never fails for a bundle that does not verify (the failed checks are the answer).
     * @throws VaultLocked, UsageError, BundleMalformed (not JSON, not a usage-proof bundle, a PDF
     * without its attachment)
     */
    verifyProof: async (input) => {
      const datasets = await ctx.datasets();
      const { text, fromPdf } = await bundleText(input);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        throw new CustosError('BundleMalformed', `“${input.fileName}” is not JSON`);
      }
      if ((parsed as { format?: unknown } | null)?.format !== BUNDLE_FORMAT)
        throw new CustosError(
          'BundleMalformed',
          `“${input.fileName}” is JSON but not a usage-proof bundle (no "format": "${BUNDLE_FORMAT}")`,
        );
      const chainId = (parsed as { chainId?: unknown }).chainId;
      const network = ctx.current();
      let note: string;
      if (!network) {
        note =
          'Checked offline: Custos is not connected to a network, so the block hashes were not compared with the chain.';
      } else if (network.chainId !== chainId) {
        note = `Checked offline: the bundle is for chain ${String(chainId)} and Custos is connected to chain ${network.chainId}, so the block hashes were not compared with the chain.`;
      } else {
        try {
          const report = await verifyUsageProof(parsed, { provider: network.provider });
          return verification(
            report,
            fromPdf,
            `Checked against the running network (chain ${network.chainId}): every block hash was compared with the chain, and the chain was asked for every event of the dataset in the period.`,
            datasets,
          );
        } catch (error) {
          if (!(error instanceof CustosError && error.tag === 'RpcUnavailable')) throw error;
          note =
            'Checked offline: the network could not be reached, so the block hashes were not compared with the chain.';
        }
      }
      return verification(await verifyUsageProof(parsed, {}), fromPdf, note, datasets);
    },
  };
}
