import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { session, type User } from './api';
import { Link, match, navigate, usePath } from './router';
import { AuthPage } from './pages/auth';
import { ProjectsPage } from './pages/projects';
import { AppsPage, NewAppPage } from './pages/apps';
import { AppPage } from './pages/app-detail';
import { BillingPage } from './pages/billing';
import { NodesPage, NodePage } from './pages/admin-nodes';
import { CatalogPage } from './pages/admin-catalog';
import { CapacityPage } from './pages/admin-capacity';
import { AdminBillingPage } from './pages/admin-billing';
import { CustomersPage } from './pages/admin-customers';
import { AuditPage } from './pages/admin-audit';
import './styles.css';

function Nav({ user, path }: { user: User; path: string }) {
  const [open, setOpen] = useState(false);
  const item = (to: string, label: string) => (
    <li>
      <Link to={to} aria-current={path === to || path.startsWith(`${to}/`) ? 'page' : undefined} onClick={() => setOpen(false)}>
        {label}
      </Link>
    </li>
  );
  return (
    <header className="topbar">
      <Link to="/apps" className="brand">
        Karvon
      </Link>
      <button type="button" className="menu-toggle" aria-expanded={open} aria-controls="main-nav" onClick={() => setOpen(!open)}>
        Menu
      </button>
      <nav id="main-nav" aria-label="Main" className={open ? 'open' : ''}>
        <ul>
          {item('/apps', 'Apps')}
          {item('/projects', 'Projects')}
          {item('/billing', 'Billing')}
          {user.role === 'admin' ? (
            <>
              {item('/admin/nodes', 'Nodes')}
              {item('/admin/capacity', 'Capacity')}
              {item('/admin/catalog', 'Catalog')}
              {item('/admin/customers', 'Customers')}
              {item('/admin/billing', 'Credit')}
              {item('/admin/audit', 'Audit log')}
            </>
          ) : null}
        </ul>
        <div className="whoami">
          <span className="muted" data-testid="whoami">
            {user.email} ({user.role})
          </span>{' '}
          <button
            type="button"
            onClick={() => {
              void session.logout().then(() => navigate('/login'));
            }}
          >
            Sign out
          </button>
        </div>
      </nav>
    </header>
  );
}

function Routes({ path }: { path: string }) {
  let p: Record<string, string> | null;
  if (match('/projects', path)) return <ProjectsPage />;
  if (match('/apps', path)) return <AppsPage />;
  if (match('/apps/new', path)) return <NewAppPage />;
  if ((p = match('/apps/:id', path))) return <AppPage id={p.id!} tab="overview" />;
  if ((p = match('/apps/:id/:tab', path))) return <AppPage id={p.id!} tab={p.tab!} />;
  if (match('/billing', path)) return <BillingPage />;
  if (match('/admin/nodes', path)) return <NodesPage />;
  if ((p = match('/admin/nodes/:id', path))) return <NodePage id={p.id!} />;
  if (match('/admin/capacity', path)) return <CapacityPage />;
  if (match('/admin/catalog', path)) return <CatalogPage />;
  if (match('/admin/billing', path)) return <AdminBillingPage />;
  if (match('/admin/customers', path)) return <CustomersPage />;
  if (match('/admin/audit', path)) return <AuditPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing at <code>{path}</code>. <Link to="/apps">Go to your apps</Link>.
      </p>
    </section>
  );
}

function Root() {
  const path = usePath();
  const [user, setUser] = useState<User | null>(session.user);
  const [resumed, setResumed] = useState(false);

  useEffect(() => {
    const off = session.onChange(setUser);
    void session.resume().finally(() => setResumed(true));
    return () => {
      off();
    };
  }, []);

  // Keep the document title and focus in step with the page, for screen readers.
  useEffect(() => {
    const h1 = document.querySelector('main h1');
    document.title = h1?.textContent ? `${h1.textContent} · Karvon` : 'Karvon';
  });

  const authPath = path === '/login' || path === '/signup';
  useEffect(() => {
    if (!resumed) return;
    if (!user && !authPath) navigate(`/login`, true);
    else if (user && (authPath || path === '/')) navigate('/apps', true);
  }, [resumed, user, authPath, path]);

  if (!resumed) return <p className="muted" role="status">Loading…</p>;
  if (!user) {
    return (
      <main className="auth-main">
        <AuthPage mode={path === '/signup' ? 'signup' : 'login'} />
      </main>
    );
  }
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Nav user={user} path={path} />
      <main id="main" tabIndex={-1}>
        <Routes key={path.split('/').slice(0, 3).join('/')} path={path} />
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
