export { APP_VERSION, CustosService, type ServiceOptions } from './service.ts';
export { redactValue, scanCsvText } from './csv.ts';
export type { RememberStore } from './remember.ts';
export { saveTokenlessSettings, type SecretStore } from './storage-settings.ts';
