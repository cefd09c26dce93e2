import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageProofSchema } from './bundle.ts';

/** The JSON Schema of the bundle (draft 2020-12), generated from the zod schema the verifier uses. */
export function usageProofJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(UsageProofSchema, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://custos.invalid/usage-proof.schema.json',
    title: 'Custos usage-proof bundle, version 1',
    description: 'See docs/proofs.md. Generated from app/proofs/bundle.ts by app/proofs/schema.ts.',
  };
}

// `node app/proofs/schema.ts` writes docs/usage-proof.schema.json
if (import.meta.main) {
  await writeFile(
    join(import.meta.dirname, '../../docs/usage-proof.schema.json'),
    `${JSON.stringify(usageProofJsonSchema(), null, 2)}\n`,
  );
}
