import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { CustosApi } from '../../app/api/index.ts';
import { connectWebApi, wrapPreloadApi } from './api/client.ts';
import { ApiContext } from './api/context.tsx';
import { App } from './App.tsx';
import './styles.css';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in a browser. */
    readonly custos?: CustosApi;
  }
}

function Fatal({ text }: { text: string }) {
  return (
    <main className="fatal" role="alert" data-testid="fatal">
      <h1>Custos cannot start this window</h1>
      <p>{text}</p>
    </main>
  );
}

async function boot(): Promise<void> {
  const root = createRoot(document.getElementById('root') as HTMLElement);
  let api: CustosApi;
  let lost = false;
  const render = (content: React.ReactNode) => root.render(<StrictMode>{content}</StrictMode>);
  if (window.custos) {
    api = wrapPreloadApi(window.custos);
  } else {
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    if (!token) {
      render(
        <Fatal text="This page was opened without its access token. Open the full link that Custos printed when it started (it ends with #token=…)." />,
      );
      return;
    }
    // Keep the token out of the visible address and history once it is in memory (the query, a
    // screen's state such as the audit's filters, stays).
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    try {
      api = await connectWebApi(token, () => {
        lost = true;
        render(
          <Fatal text="The connection to Custos was lost. Restart Custos and open the new link it prints." />,
        );
      });
    } catch {
      render(
        <Fatal text="Custos refused this page: the access token is wrong or expired. Open the link that Custos printed when it started." />,
      );
      return;
    }
  }
  if (lost) return;
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
  });
  render(
    <ApiContext value={api}>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </ApiContext>,
  );
}

void boot();
