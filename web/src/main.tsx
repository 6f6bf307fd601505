import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Navigate, Route, Routes } from 'react-router-dom';
import { SignInButton, signOutUser, useUser } from './auth.tsx';
import { useMyPackages } from './data.ts';
import { DeployPage } from './pages/DeployPage.tsx';
import { PackagePage } from './pages/PackagePage.tsx';
import './styles.css';

function App() {
  const user = useUser();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="top-bar" aria-label="Main">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Sigyl
        </Link>
        {user && (
          <div className="top-actions">
            <Link to="/deploy" className="button primary small">
              New deployment
            </Link>
            <button
              type="button"
              className="button small ghost"
              onClick={() => void signOutUser()}
              title={user.email ?? user.uid}
            >
              Sign out
            </button>
          </div>
        )}
      </nav>
      <div id="main">
        {user === undefined ? null : user === null ? (
          <SignedOut />
        ) : (
          <Routes>
            <Route path="/" element={<HomePage uid={user.uid} />} />
            <Route path="/deploy" element={<DeployPage />} />
            <Route
              path="/mcp/:packageId"
              element={<PackagePage uid={user.uid} />}
            />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        )}
      </div>
    </>
  );
}

function SignedOut() {
  return (
    <main className="page narrow center">
      <h1>Deploy MCP servers, watch every line</h1>
      <p className="lead">
        Sign in to deploy a server from a repository or an npm package.
      </p>
      <SignInButton />
    </main>
  );
}

function HomePage({ uid }: { uid: string }) {
  const packages = useMyPackages(uid);
  if (packages === null) return null;
  if (packages.length === 0) return <Navigate to="/deploy" replace />;
  return (
    <main className="page">
      <h1>Your MCP servers</h1>
      <ul className="package-list">
        {packages.map((pkg) => (
          <li key={pkg.id}>
            <Link to={`/mcp/${pkg.id}`} className="card package-card">
              <strong>{pkg.name}</strong>
              <span className="muted">{pkg.description || pkg.slug}</span>
              {pkg.url && <code className="muted">{pkg.url}</code>}
            </Link>
          </li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
