/** The enclave's side of the protocol over HTTP: ask for a challenge, then for the key. */
import { CustosError, isErrorTag } from '../../app/errors/index.ts';
import {
  ChallengeResponseSchema,
  ErrorResponseSchema,
  ReleaseResponseSchema,
  type ChallengeResponse,
  type ReleaseRequest,
  type ReleaseResponse,
} from './protocol.ts';

async function post(url: string, body: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new CustosError('KeyReleaseRefused', `key-release service unreachable at ${url}`, {
      cause: error,
    });
  }
  const json: unknown = await res.json().catch(() => null);
  if (res.ok) return json;
  const parsed = ErrorResponseSchema.safeParse(json);
  if (!parsed.success)
    throw new CustosError('KeyReleaseRefused', `key-release service answered HTTP ${res.status}`);
  const { tag, message } = parsed.data.error;
  throw new CustosError(isErrorTag(tag) ? tag : 'KeyReleaseRefused', message);
}

export async function requestChallenge(serviceUrl: string): Promise<ChallengeResponse> {
  return ChallengeResponseSchema.parse(await post(`${serviceUrl}/v1/challenge`, {}));
}

/** @throws the service's refusal as its tagged CustosError. */
export async function requestRelease(
  serviceUrl: string,
  request: ReleaseRequest,
): Promise<ReleaseResponse> {
  return ReleaseResponseSchema.parse(await post(`${serviceUrl}/v1/release`, request));
}
