// What the panel's install command tells a new server, read back by the real-agent browser test:
// the control plane URL and the registration token the install script passes to `karvon-agent register`.
export interface InstallTarget {
  controlPlane: string;
  token: string;
}

/** The `--control-plane URL --token TOKEN` pair of an install command; throws when either is missing. */
export function parseInstallCommand(command: string): InstallTarget {
  const words = command.trim().split(/\s+/);
  const after = (flag: string): string => {
    const i = words.lastIndexOf(flag);
    const value = i >= 0 ? words[i + 1] : undefined;
    if (!value || value.startsWith('-')) throw new Error(`the install command has no ${flag} value: ${command}`);
    return value;
  };
  const controlPlane = after('--control-plane');
  if (!/^https?:\/\/\S+$/.test(controlPlane)) throw new Error(`the install command's control plane is not a URL: ${controlPlane}`);
  return { controlPlane, token: after('--token') };
}
