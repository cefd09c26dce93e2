/**
 * How calls and errors cross a process boundary. A host calls `handle()` with the method name and
 * the raw input it received; the result is always data (`ApiResult`), never a thrown error, so that
 * the tag survives serialisation and the other side rebuilds it.
 */
import type { z } from 'zod';
import {
  CustosError,
  explain,
  isErrorTag,
  type ErrorDetails,
  type ErrorTag,
} from '../errors/index.ts';
import {
  EVENTS,
  METHODS,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
} from './contract.ts';

/** An error as data: its tag, a short technical message, details, and the sentence a steward reads. */
export interface ApiError {
  readonly tag: ErrorTag;
  readonly message: string;
  readonly details: ErrorDetails;
  /** `explain(tag)`: what happened and what to do. */
  readonly explanation: string;
}

export type ApiResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

/** What the UI holds: one async function per method, plus event subscription. */
export type CustosApi = {
  readonly [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>>;
} & {
  /** Subscribes to an event; returns the unsubscribe function. */
  readonly on: <E extends EventName>(
    event: E,
    listener: (payload: EventPayload<E>) => void,
  ) => () => void;
};

/** The privileged implementation: receives inputs already parsed by the contract's schemas. */
export type ApiHandlers = {
  readonly [M in MethodName]: (
    input: z.output<(typeof METHODS)[M]['input']>,
  ) => Promise<MethodOutput<M>>;
};

/** Turns anything thrown into an `ApiError`. Untagged errors become `Internal` (their text is kept out). */
export function toApiError(error: unknown): ApiError {
  const tagged =
    error instanceof CustosError
      ? error
      : new CustosError('Internal', 'unexpected error', { cause: error });
  return {
    tag: tagged.tag,
    message: tagged.message,
    details: tagged.details,
    explanation: explain(tagged.tag),
  };
}

/** Rebuilds a `CustosError` from an `ApiError` that crossed a boundary (unknown tag → `Internal`). */
export function fromApiError(error: {
  tag: unknown;
  message: unknown;
  details?: unknown;
}): CustosError {
  return CustosError.fromJSON(error);
}

/** True when `name` is one of the contract's methods (own property, so `__proto__` & co. are not). */
export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(METHODS, name);
}

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || 'input'}: ${i.message}`)
    .join('; ');
}

/**
 * Calls the handler of `method` with `rawInput` parsed by the contract: an unknown method or an
 * input that does not match becomes `UsageError`; an output that does not match its schema (a bug
 * in the core) becomes `Internal`. Never throws.
 */
export async function handle(
  handlers: ApiHandlers,
  method: unknown,
  rawInput: unknown,
): Promise<ApiResult<unknown>> {
  try {
    if (!isMethodName(method)) {
      throw new CustosError('UsageError', 'unknown method', {
        details: { method: typeof method === 'string' ? method.slice(0, 64) : null },
      });
    }
    const spec = METHODS[method];
    const input = spec.input.safeParse(rawInput ?? {});
    if (!input.success) {
      throw new CustosError(
        'UsageError',
        `invalid input for ${method}: ${issuesText(input.error)}`,
        {
          details: { method },
        },
      );
    }
    const handler = handlers[method] as (input: unknown) => Promise<unknown>;
    const value: unknown = await handler(input.data);
    const output = spec.output.safeParse(value);
    if (!output.success) {
      throw new CustosError('Internal', `the core returned an invalid ${method} result`, {
        details: { method, issues: issuesText(output.error) },
      });
    }
    return { ok: true, value: output.data };
  } catch (error) {
    return { ok: false, error: toApiError(error) };
  }
}

/** Checks an event against its schema before it leaves the core. Throws `Internal` on a mismatch. */
export function checkEvent<E extends EventName>(
  event: E,
  payload: EventPayload<E>,
): EventPayload<E> {
  const parsed = EVENTS[event].safeParse(payload);
  if (!parsed.success)
    throw new CustosError('Internal', `invalid ${event} event: ${issuesText(parsed.error)}`);
  return parsed.data as EventPayload<E>;
}

/** Whether a value is an ApiError-shaped object with a known tag. */
export function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    isErrorTag((value as { tag?: unknown }).tag) &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}
