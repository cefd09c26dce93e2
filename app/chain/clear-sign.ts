/**
 * What a Ledger clear-signing a Custos message shows, computed from the ERC-7730 descriptor
 * (contracts/erc7730-custos.json) and the message itself. With a real device the app cannot read
 * the screen, so it shows these fields beside the prompt: the steward compares the two.
 */
import { getAddress } from 'ethers';
import descriptor from '../../contracts/erc7730-custos.json' with { type: 'json' };

export interface ClearSignField {
  readonly label: string;
  readonly value: string;
}

interface FieldFormat {
  readonly path: string;
  readonly label: string;
  readonly format: string;
}

const FORMATS = descriptor.display.formats as Record<
  string,
  { readonly intent: string; readonly fields: readonly FieldFormat[] }
>;

function formatValue(value: unknown, format: string): string {
  if (format === 'date') {
    const seconds = Number(value);
    return Number.isFinite(seconds)
      ? `${new Date(seconds * 1000).toISOString().replace('T', ' ').replace('.000Z', '')} UTC`
      : String(value);
  }
  if (format === 'addressName' && typeof value === 'string') return getAddress(value);
  if (typeof value === 'bigint') return value.toString();
  return String(value);
}

/**
 * The intent and fields the device shows for `primaryType` with `message`, in the descriptor's
 * order; an array path (`measurements.[]`) gives one field per element. Unknown type: no fields.
 */
export function clearSignFields(
  primaryType: string,
  message: Readonly<Record<string, unknown>>,
): ClearSignField[] {
  const format = FORMATS[primaryType];
  if (!format) return [];
  const fields: ClearSignField[] = [{ label: 'Review', value: format.intent }];
  for (const f of format.fields) {
    if (f.path.endsWith('.[]')) {
      const list = message[f.path.slice(0, -3)];
      for (const item of Array.isArray(list) ? (list as unknown[]) : []) {
        fields.push({ label: f.label, value: formatValue(item, f.format) });
      }
    } else if (f.path in message) {
      fields.push({ label: f.label, value: formatValue(message[f.path], f.format) });
    }
  }
  return fields;
}
