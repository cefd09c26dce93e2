import { createContext, useContext } from 'react';
import type { CustosApi } from '../../../app/api/index.ts';

export const ApiContext = createContext<CustosApi | null>(null);

/** The API of the core, for components under `<ApiContext>`. */
export function useApi(): CustosApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside ApiContext');
  return api;
}
