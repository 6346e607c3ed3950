import { api } from '../api';
import type { RegionCapacity } from '../types';
import { CapacityBar, cpu, ErrorBox, Loading, mb, useLoad } from '../ui';

export function CapacityPage() {
  const cap = useLoad((signal) => api.get<{ items: RegionCapacity[] }>('/admin/capacity', { signal }), [], 10_000);
  return (
    <section>
      <h1>Capacity</h1>
      <p className="muted">Per region: used / allocated / total over its nodes.</p>
      <ErrorBox error={cap.error} />
      {cap.loading ? <Loading what="capacity" /> : null}
      {cap.data && cap.data.items.length === 0 ? <p>No regions with nodes yet.</p> : null}
      <div className="node-grid">
        {cap.data?.items.map((r) => (
          <div key={r.region} className="card" data-region={r.region}>
            <h2>{r.region}</h2>
            <p className="muted">
              {Object.entries(r.nodes)
                .map(([status, n]) => `${n} ${status}`)
                .join(' · ') || 'no nodes'}
            </p>
            <CapacityBar label="CPU" total={r.total.cpuMillicores} allocated={r.allocated.cpuMillicores} used={r.used.cpuMillicores} format={cpu} />
            <CapacityBar label="Memory" total={r.total.memoryMb} allocated={r.allocated.memoryMb} used={r.used.memoryMb} format={mb} />
            <CapacityBar label="Disk" total={r.total.diskMb} allocated={r.allocated.diskMb} used={r.used.diskMb} format={mb} />
          </div>
        ))}
      </div>
    </section>
  );
}
