#!/usr/bin/env bash
# Karvon agent installer for a fresh Debian 12 / Ubuntu 22.04+ server. Run as root, e.g. the
# admin API's installCommand (POST /api/v1/admin/node-tokens):
#
#   curl -fsSL https://cp.example/agent/install.sh | sudo bash -s -- --control-plane https://cp.example --token kvj_…
#
# Steps, each logged: check OS/arch → curl from the distro → the agent release (self-contained,
# its own Node.js) from --bundle FILE or the control plane's GET /agent/download?arch=amd64|arm64,
# checked against its .sha256 before anything else is installed → Docker engine (Debian's
# docker.io) and git/iptables from the distro → `karvon` system user → the release into
# /opt/karvon-agent → /etc/karvon/agent.env and /etc/karvon/traefik.yml (the agent's own
# generator) → register once (node.json in /var/lib/karvon-agent) → systemd units, enabled and
# started. It downloads from nowhere but the distro mirrors and the control plane.
# Idempotent: a second run repairs files that differ and never registers twice. --uninstall
# removes what it installed (the node itself is removed by an admin: DELETE /api/v1/admin/nodes/:id).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: install-agent.sh --control-plane URL --token TOKEN [options]
       install-agent.sh --uninstall [--prefix DIR] [--no-systemd]

  --control-plane URL     the control plane (http or https)
  --token TOKEN           a registration token (POST /api/v1/admin/node-tokens); not needed once registered
  --name NAME             the node's name (default: the host name)
  --bundle FILE           the agent release tarball (default: GET <control plane>/agent/download);
                          FILE.sha256, when present, is checked
  --traefik-binary FILE   install this Traefik v3 binary as /usr/local/bin/traefik (Debian has none)
  --docker=install|existing
                          install: Debian's docker.io when no engine is installed (default);
                          existing: use the engine already there (dockerd, or its socket
                          /var/run/docker.sock), fail if there is none
  --no-systemd            for hosts without systemd: install the units but do not enable or start
                          them; the agent is then run by other means (the script prints how)
  --prefix DIR            install under DIR as a staged root (like DESTDIR): files and paths inside
                          DIR, config files naming the final paths; no user is created
  --uninstall             stop and remove the units, /opt/karvon-agent, /etc/karvon/{agent.env,traefik.yml}
                          and the state dir
  -h, --help
USAGE
}

log() { printf '[karvon-install] %s\n' "$*" >&2; }
die() {
  printf '[karvon-install] error: %s\n' "$*" >&2
  exit 1
}

control_plane=""
token=""
node_name=""
bundle=""
traefik_binary=""
docker_mode="install"
use_systemd=1
prefix=""
action="install"

while [ "$#" -gt 0 ]; do
  case "$1" in
    --control-plane) control_plane="${2:?--control-plane needs a URL}"; shift 2 ;;
    --token) token="${2:?--token needs a value}"; shift 2 ;;
    --name) node_name="${2:?--name needs a value}"; shift 2 ;;
    --bundle) bundle="${2:?--bundle needs a file}"; shift 2 ;;
    --traefik-binary) traefik_binary="${2:?--traefik-binary needs a file}"; shift 2 ;;
    --docker=install | --docker=existing) docker_mode="${1#--docker=}"; shift ;;
    --no-systemd) use_systemd=0; shift ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --uninstall) action="uninstall"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# Final paths (written into config files) and where they are on this run's disk (under --prefix).
OPT_DIR=/opt/karvon-agent
ETC_DIR=/etc/karvon
STATE_DIR=/var/lib/karvon-agent
PROXY_DIR="$STATE_DIR/proxy"
UNIT_DIR=/etc/systemd/system
TRAEFIK_BIN=/usr/local/bin/traefik
AGENT_USER=karvon
UNITS=(karvon-agent.service karvon-traefik.service)
if [ -n "$prefix" ]; then
  mkdir -p "$prefix"
  prefix="$(cd "$prefix" && pwd)"
fi
at() { printf '%s%s' "$prefix" "$1"; }
# Temporary dirs, removed however the script ends.
work_dirs=()
cleanup() { [ "${#work_dirs[@]}" -eq 0 ] || rm -rf "${work_dirs[@]}"; }
trap cleanup EXIT

# Writes stdin to FILE (mode MODE) only when the content differs: a re-run changes nothing.
install_content() {
  local file="$1" mode="$2" tmp
  tmp="$(mktemp "$(dirname "$file")/.karvon-install.XXXXXX")"
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    chmod "$mode" "$file"
    log "unchanged: $file"
  else
    mv -f "$tmp" "$file"
    log "wrote: $file"
  fi
}

check_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root (sudo bash install-agent.sh …)"
}

check_platform() {
  [ -r /etc/os-release ] || die "no /etc/os-release: Debian 12 or Ubuntu 22.04+ is required"
  local id version_id
  # shellcheck source=/dev/null
  id="$(. /etc/os-release && printf '%s' "${ID:-}")"
  # shellcheck source=/dev/null
  version_id="$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")"
  case "$id" in
    debian) [ "${version_id%%.*}" -ge 12 ] 2>/dev/null || die "Debian $version_id: Debian 12 or newer is required" ;;
    ubuntu) [ "${version_id%%.*}" -ge 22 ] 2>/dev/null || die "Ubuntu $version_id: Ubuntu 22.04 or newer is required" ;;
    *) die "$id $version_id: only Debian 12+ and Ubuntu 22.04+ are supported" ;;
  esac
  # Debian's architecture names, as the control plane's GET /agent/download?arch= takes them.
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) die "architecture $(uname -m): only x86_64 and aarch64 have agent releases" ;;
  esac
  log "platform: $id $version_id, $(uname -m)"
}

apt_install() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing from the distribution: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_packages() {
  # git for builds, iptables for the tenant firewall rule (curl/ca-certificates came first).
  apt_install git iptables
  if command -v dockerd >/dev/null 2>&1; then
    log "docker: engine already installed ($(dockerd --version 2>/dev/null || echo dockerd))"
  elif [ "$docker_mode" = existing ]; then
    # An engine installed otherwise (or outside this root): its socket is what the agent uses.
    [ -S /var/run/docker.sock ] || die "--docker=existing but there is no Docker engine: no dockerd, no /var/run/docker.sock"
    log "docker: using the existing engine at /var/run/docker.sock"
  else
    apt_install docker.io
  fi
}

ensure_user() {
  if [ -n "$prefix" ]; then
    log "user: skipped under --prefix (files stay owned by $(id -un))"
    return 0
  fi
  if ! id "$AGENT_USER" >/dev/null 2>&1; then
    useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$AGENT_USER"
    log "user: created $AGENT_USER"
  else
    log "user: $AGENT_USER exists"
  fi
  getent group docker >/dev/null 2>&1 || groupadd --system docker
  # Only when missing: usermod rewrites /etc/group even when nothing changes.
  case " $(id -nG "$AGENT_USER") " in
    *" docker "*) log "user: $AGENT_USER is in the docker group" ;;
    *)
      usermod -aG docker "$AGENT_USER"
      log "user: added $AGENT_USER to the docker group"
      ;;
  esac
}

check_control_plane() {
  [ -n "$control_plane" ] || die "--control-plane URL is required"
  case "$control_plane" in http://* | https://*) ;; *) die "--control-plane must be an http(s) URL" ;; esac
  control_plane="${control_plane%/}"
  curl -fsS --max-time 10 -o /dev/null "$control_plane/healthz" ||
    die "the control plane at $control_plane does not answer (GET /healthz); check the URL and that this server can reach it"
  log "control plane: $control_plane answers"
}

# GET URL into FILE (curl's --max-time SECONDS); a refusal dies with the control plane's own message.
fetch_from_control_plane() {
  local url="$1" file="$2" max_time="$3" status
  status="$(curl -sS -L --max-time "$max_time" -o "$file" -w '%{http_code}' "$url")" ||
    die "could not download $url; check that this server can reach the control plane"
  [ "$status" = 200 ] && return 0
  die "GET $url answered HTTP $status: $(sed -n 's/.*"message":"\([^"]*\)".*/\1/p' "$file" | head -c 600)"
}

# The release tarball, downloaded (or copied from --bundle) and verified before anything is
# installed: a corrupt or altered download leaves the server as it was.
release_work=""
release_sha=""
fetch_release() {
  local work sum_file want have
  work="$(mktemp -d)"
  work_dirs+=("$work")
  if [ -n "$bundle" ]; then
    [ -f "$bundle" ] || die "--bundle $bundle: no such file"
    cp "$bundle" "$work/agent.tar.gz"
    [ -f "$bundle.sha256" ] && cp "$bundle.sha256" "$work/agent.tar.gz.sha256"
  else
    log "downloading the agent from $control_plane/agent/download?arch=$arch"
    fetch_from_control_plane "$control_plane/agent/download?arch=$arch" "$work/agent.tar.gz" 600
    fetch_from_control_plane "$control_plane/agent/download.sha256?arch=$arch" "$work/agent.tar.gz.sha256" 60
  fi
  sum_file="$work/agent.tar.gz.sha256"
  have="$(sha256sum "$work/agent.tar.gz" | cut -d' ' -f1)"
  if [ -f "$sum_file" ]; then
    want="$(cut -d' ' -f1 <"$sum_file")"
    [[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "the agent release checksum is not a SHA-256 ($sum_file)"
    [ "$want" = "$have" ] ||
      die "agent release checksum mismatch (expected $want, got $have): the release was corrupted or altered on its way; nothing was installed"
    log "agent release checksum ok ($have)"
  else
    log "warning: no .sha256 next to $bundle; not verified"
  fi
  release_work="$work"
  release_sha="$have"
}

install_release() {
  local work="$release_work" have="$release_sha"
  if [ -f "$(at "$OPT_DIR")/.release-sha256" ] && [ "$(cat "$(at "$OPT_DIR")/.release-sha256")" = "$have" ]; then
    log "agent release already installed: $(at "$OPT_DIR") ($(cat "$(at "$OPT_DIR")/VERSION"))"
    return 0
  fi
  mkdir -p "$work/x" "$(dirname "$(at "$OPT_DIR")")"
  tar -xzf "$work/agent.tar.gz" -C "$work/x"
  [ -x "$work/x/karvon-agent/bin/karvon-agent" ] || die "the release has no karvon-agent/bin/karvon-agent"
  printf '%s\n' "$have" >"$work/x/karvon-agent/.release-sha256"
  # Swap the whole directory: a running agent keeps its open files, the next start gets the new release.
  rm -rf "$(at "$OPT_DIR").old"
  [ -d "$(at "$OPT_DIR")" ] && mv "$(at "$OPT_DIR")" "$(at "$OPT_DIR").old"
  mv "$work/x/karvon-agent" "$(at "$OPT_DIR")"
  rm -rf "$(at "$OPT_DIR").old"
  log "installed agent $(cat "$(at "$OPT_DIR")/VERSION") in $(at "$OPT_DIR")"
}

write_config() {
  mkdir -p "$(at "$ETC_DIR")" "$(at "$STATE_DIR")" "$(at "$PROXY_DIR")"
  chmod 0755 "$(at "$ETC_DIR")"
  chmod 0700 "$(at "$STATE_DIR")"
  install_content "$(at "$ETC_DIR")/agent.env" 0644 <<ENV
# Karvon agent settings (README "Settings"); read by karvon-agent.service.
KARVON_STATE_DIR=$STATE_DIR
KARVON_PROXY_DIR=$PROXY_DIR
ENV
  "$(at "$OPT_DIR")/bin/node" "$(at "$OPT_DIR")/lib/traefik-static-config.mjs" --proxy-dir "$PROXY_DIR" |
    install_content "$(at "$ETC_DIR")/traefik.yml" 0644
  if [ -n "$traefik_binary" ]; then
    [ -x "$traefik_binary" ] || die "--traefik-binary $traefik_binary is not an executable file"
    mkdir -p "$(dirname "$(at "$TRAEFIK_BIN")")"
    install_content "$(at "$TRAEFIK_BIN")" 0755 <"$traefik_binary"
  elif [ ! -x "$(at "$TRAEFIK_BIN")" ]; then
    log "warning: no Traefik at $TRAEFIK_BIN: apps are not routed on this node until one is installed (--traefik-binary FILE)"
  fi
}

register_node() {
  local identity
  identity="$(at "$STATE_DIR")/node.json"
  if [ -f "$identity" ]; then
    log "already registered: $(sed -n 's/.*"nodeId": *"\([^"]*\)".*/\1/p' "$identity") ($identity); not registering again"
    return 0
  fi
  [ -n "$token" ] || die "--token is required for the first registration"
  local args=(register --control-plane "$control_plane" --token "$token" --state-dir "$(at "$STATE_DIR")")
  [ -n "$node_name" ] && args+=(--name "$node_name")
  log "registering with $control_plane"
  "$(at "$OPT_DIR")/bin/karvon-agent" "${args[@]}" ||
    die "registration refused: the token may be wrong, expired or already used (make a new one: POST /api/v1/admin/node-tokens)"
  log "registered: $(sed -n 's/.*"nodeId": *"\([^"]*\)".*/\1/p' "$identity")"
}

own_state() {
  [ -n "$prefix" ] && return 0
  chown -R "$AGENT_USER:$AGENT_USER" "$STATE_DIR"
}

install_units() {
  mkdir -p "$(at "$UNIT_DIR")"
  local unit
  for unit in "${UNITS[@]}"; do
    install_content "$(at "$UNIT_DIR")/$unit" 0644 <"$(at "$OPT_DIR")/share/systemd/$unit"
  done
  if [ "$use_systemd" -eq 0 ]; then
    log "--no-systemd: units installed, not started. Run the agent with:"
    log "  $OPT_DIR/bin/karvon-agent run --state-dir $STATE_DIR   (as $AGENT_USER, with /etc/karvon/agent.env in its environment)"
    return 0
  fi
  command -v systemctl >/dev/null 2>&1 || die "no systemctl: use --no-systemd on hosts without systemd"
  systemctl daemon-reload
  systemctl enable --now docker.service
  systemctl enable karvon-agent.service karvon-traefik.service
  # restart, not start: a re-run after an upgrade must load the new release.
  systemctl restart karvon-agent.service
  [ -x "$TRAEFIK_BIN" ] && systemctl restart karvon-traefik.service
  log "karvon-agent.service started; follow it with: journalctl -u karvon-agent -f"
}

uninstall() {
  if [ "$use_systemd" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now "${UNITS[@]}" 2>/dev/null || true
  fi
  local unit
  for unit in "${UNITS[@]}"; do rm -f "$(at "$UNIT_DIR")/$unit"; done
  [ "$use_systemd" -eq 1 ] && command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload
  rm -rf "$(at "$OPT_DIR")" "$(at "$STATE_DIR")"
  rm -f "$(at "$ETC_DIR")/agent.env" "$(at "$ETC_DIR")/traefik.yml"
  rmdir "$(at "$ETC_DIR")" 2>/dev/null || true
  log "removed the agent, its units, settings and state; the node stays listed until an admin deletes it (DELETE /api/v1/admin/nodes/:id)"
  log "kept: Docker, the $AGENT_USER user, $TRAEFIK_BIN, and any tenant containers (docker ps --filter label=karvon.node)"
}

main() {
  check_root
  if [ "$action" = uninstall ]; then
    uninstall
    return 0
  fi
  check_platform
  apt_install ca-certificates curl
  check_control_plane
  fetch_release
  ensure_packages
  ensure_user
  install_release
  write_config
  register_node
  own_state
  install_units
  log "done"
}

main
