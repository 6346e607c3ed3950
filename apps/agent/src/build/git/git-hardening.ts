// The configuration and environment every build's git runs with, as data (tested exactly).
// Nothing here comes from the customer: their values (URL, SHA, branch) are validated elsewhere
// and only ever appear as single argv entries after `--`.
import { isIP } from 'node:net';

export interface GitHardeningOptions {
  /** CA bundle for https git servers with a private CA (KARVON_GIT_CA_FILE). */
  caFile?: string | undefined;
  /** For https: connect to this address for host:port (the one that passed the host check). */
  pin?: { host: string; port: number; address: string } | undefined;
  /** For ssh with the app's deploy key: the key file and the known_hosts file (both in the build's workdir). */
  ssh?: { identityFile: string; knownHostsFile: string } | undefined;
}

// core.sshCommand is run by a shell: only paths the agent made itself go in, and only these characters.
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;

/** The ssh command git runs: batch mode (never a prompt), a connect timeout, host keys trusted on first use. */
export function sshCommand(ssh?: GitHardeningOptions['ssh']): string {
  const base = 'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=20';
  if (!ssh) return base;
  for (const p of [ssh.identityFile, ssh.knownHostsFile]) if (!SAFE_PATH.test(p)) throw new Error(`unsafe path for core.sshCommand: ${JSON.stringify(p)}`);
  // -F /dev/null: no system or user ssh config (no hashed known_hosts, no other identities or proxies).
  return `${base} -F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o UserKnownHostsFile=${ssh.knownHostsFile} -o GlobalKnownHostsFile=/dev/null -i ${ssh.identityFile}`;
}

/** `-c key=value` pairs, in order. */
export function gitConfig(opts: GitHardeningOptions = {}): string[] {
  const config = [
    // Only https and ssh: no ext:: (runs a command), fd::, file://, local paths, git://, http://.
    'protocol.allow=never',
    'protocol.https.allow=always',
    'protocol.ssh.allow=always',
    // No hook of any kind runs (checkout runs post-checkout; a template could add more).
    'core.hooksPath=/dev/null',
    'init.templateDir=',
    // Submodules are never fetched (they could name other transports and hosts).
    'submodule.recurse=false',
    'fetch.recurseSubmodules=false',
    // A public host must not be able to redirect the fetch to a private one.
    'http.followRedirects=false',
    // ssh never prompts and never hangs on an unknown host key question.
    `core.sshCommand=${sshCommand(opts.ssh)}`,
    'core.symlinks=true',
    'core.fsmonitor=false',
    'advice.detachedHead=false',
    'credential.helper=',
  ];
  if (opts.caFile) config.push(`http.sslCAInfo=${opts.caFile}`);
  // Git resolves the name again itself; pinning the checked address closes the DNS rebinding gap.
  // (Only names are pinned: an address literal is what it is.)
  if (opts.pin && isIP(opts.pin.host) === 0) {
    const address = isIP(opts.pin.address) === 6 ? `[${opts.pin.address}]` : opts.pin.address;
    config.push(`http.curloptResolve=${opts.pin.host}:${opts.pin.port}:${address}`);
  }
  return config;
}

/** The whole environment git gets: nothing inherited but PATH, no global or system config. */
export function gitEnv(home: string): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_LFS_SKIP_SMUDGE: '1',
    LC_ALL: 'C',
  };
}
