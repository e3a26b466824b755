// The dashboard's shell: navigation, the live connection's state, the token prompt, and the page for the path.
import { useEffect, useReducer } from 'preact/hooks';
import { TokenPrompt } from './components/token-prompt.js';
import { auth, authHeaders, forgetToken, onAuthChange } from './lib/auth.js';
import { useLive } from './lib/hooks.js';
import { href, usePath } from './lib/router.js';
import { EnvironmentsPage } from './pages/environments.js';
import { ImagesPage } from './pages/images.js';
import { ModelsPage } from './pages/models.js';
import { OperationsPage } from './pages/operations.js';
import { ServicePageView } from './pages/service.js';
import { ServicesPage } from './pages/services.js';

const NAV = [['/', 'Services'], ['/models', 'Models'], ['/environments', 'Environments'], ['/operations', 'Operations'], ['/images', 'Images']] as const;

const CONNECTION_TEXT = { connecting: 'connecting…', live: 'live', offline: 'control plane unreachable: retrying', locked: 'admin token needed' } as const;

function Page({ path }: { path: string }) {
  const service = /^\/services\/([a-z][-a-z0-9]*)\/?$/.exec(path);
  if (service !== null) return <ServicePageView key={service[1]} name={service[1]!} />;
  switch (path.replace(/\/$/, '') || '/') {
    case '/': case '/services': return <ServicesPage />;
    case '/models': return <ModelsPage />;
    case '/environments': return <EnvironmentsPage />;
    case '/operations': return <OperationsPage />;
    case '/images': return <ImagesPage />;
    default: return <p class="empty">No page here. <a href={href('/')}>Services</a></p>;
  }
}

export function App() {
  const path = usePath();
  const live = useLive();
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const off = onAuthChange(() => bump(undefined));
    bump(undefined); // a 401 that came before this subscription still opens the prompt
    return off;
  }, []);
  const section = path.startsWith('/services') ? '/' : path;
  useEffect(() => {
    const name = /^\/services\/([^/]+)/.exec(path)?.[1];
    document.title = name === undefined ? 'berth' : `${name} · berth`;
  }, [path]);
  return (
    <div class="shell">
      <nav class="top">
        <a class="brand" href={href('/')}>berth</a>
        {NAV.map(([to, label]) => <a key={to} href={href(to)} class={section === to ? 'on' : ''}>{label}</a>)}
        <span class="spacer" />
        <span class={`conn ${live.connection}`} data-testid="connection" title={live.version === '' ? '' : `berth ${live.version}`}>{CONNECTION_TEXT[live.connection]}</span>
        {'authorization' in authHeaders() ? <button type="button" class="small" onClick={forgetToken} title="Forget the admin token kept for this tab">Lock</button> : null}
      </nav>
      <main><Page path={path} /></main>
      {auth.needed ? <TokenPrompt /> : null}
    </div>
  );
}
