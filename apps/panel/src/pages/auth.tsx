import { useState, type FormEvent } from 'react';
import { session } from '../api';
import { Link, navigate } from '../router';
import { ErrorBox, Field, fieldError, useAction } from '../ui';

export function AuthPage({ mode }: { mode: 'login' | 'signup' }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(async () => {
    if (mode === 'signup') await session.register(email, password);
    else await session.login(email, password);
    navigate('/apps', true);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run();
  };
  const title = mode === 'signup' ? 'Create your account' : 'Sign in';
  return (
    <section className="card auth">
      <h1>{title}</h1>
      <form onSubmit={submit} noValidate aria-label={title}>
        <Field label="Email" error={fieldError(action.error, 'email')}>
          {(p) => <input {...p} name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Password" error={fieldError(action.error, 'password')} hint={mode === 'signup' ? 'At least 10 characters.' : undefined}>
          {(p) => (
            <input
              {...p}
              name="password"
              type="password"
              autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <ErrorBox error={action.error} />
        <button type="submit" className="primary" disabled={action.pending}>
          {mode === 'signup' ? 'Sign up' : 'Sign in'}
        </button>
      </form>
      <p>
        {mode === 'signup' ? (
          <>
            Have an account? <Link to="/login">Sign in</Link>
          </>
        ) : (
          <>
            New to Karvon? <Link to="/signup">Create an account</Link>
          </>
        )}
      </p>
    </section>
  );
}
