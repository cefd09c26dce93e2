export { ChallengeBook, type Challenge } from './challenges.ts';
export { requestChallenge, requestRelease } from './client.ts';
export {
  PROTOCOL_VERSION,
  ReleaseRequestSchema,
  ReleaseResponseSchema,
  bindingReportData,
  type ChallengeResponse,
  type ReleaseRequest,
  type ReleaseResponse,
} from './protocol.ts';
export { RateLimiter } from './rate-limit.ts';
export { serveKeyRelease, type RunningKeyReleaseServer } from './server.ts';
export { KeyReleaseService, httpStatusOf, type KeyReleaseOptions } from './service.ts';
