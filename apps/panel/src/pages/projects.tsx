import { useState, type FormEvent } from 'react';
import { api, type Page } from '../api';
import { Link } from '../router';
import type { Project } from '../types';
import { ConfirmButton, ErrorBox, Field, fieldError, formatTime, Loading, useAction, useLoad } from '../ui';

export function ProjectsPage() {
  const projects = useLoad((signal) => api.get<Page<Project>>('/projects?limit=200', { signal }), []);
  const [name, setName] = useState('');
  const create = useAction(async () => {
    await api.post<Project>('/projects', { name });
    setName('');
    projects.reload();
  });
  const remove = useAction(async (id: string) => {
    await api.del(`/projects/${encodeURIComponent(id)}`);
    projects.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  return (
    <section>
      <h1>Projects</h1>
      <form className="card inline-form" onSubmit={submit} noValidate aria-label="New project">
        <Field label="Project name" error={fieldError(create.error, 'name')} hint="Lowercase letters, digits and dashes.">
          {(p) => <input {...p} name="projectName" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <button type="submit" className="primary" disabled={create.pending}>
          Create project
        </button>
        <ErrorBox error={create.error} />
      </form>
      <ErrorBox error={projects.error ?? remove.error} />
      {projects.loading ? <Loading what="projects" /> : null}
      {projects.data && projects.data.items.length === 0 ? <p>No projects yet: create one above.</p> : null}
      {projects.data && projects.data.items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Your projects</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {projects.data.items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`/apps?project=${encodeURIComponent(p.id)}`}>{p.name}</Link>
                  </td>
                  <td>{formatTime(p.createdAt)}</td>
                  <td className="actions">
                    <Link to={`/apps/new?project=${encodeURIComponent(p.id)}`} className="button">
                      New app
                    </Link>{' '}
                    <ConfirmButton label="Delete" confirmLabel={`Delete project ${p.name}?`} onConfirm={() => void remove.run(p.id)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
