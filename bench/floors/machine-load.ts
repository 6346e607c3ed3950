// One line saying how busy the machine was, printed beside floor figures: they are only as good as
// the cores left to the server.
import os from 'node:os';

export function machineLoadLine(): string {
  const [one, five] = os.loadavg();
  return `machine: ${os.availableParallelism()} cores, load average ${one!.toFixed(2)} (1 min) ${five!.toFixed(2)} (5 min)`;
}
