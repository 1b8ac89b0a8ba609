#!/usr/bin/env bash
# Installs the Debian prometheus package for the bootstrap, then stops the system service the
# package starts on :9090 (greeter runs its own instance). Only the processes this install
# started are stopped, by pid: any other prometheus on the machine (another stack, a cluster's,
# a colleague's) is left alone.
#   source scripts/lib/prometheus-install.sh && install_prometheus_package

# pids of the processes named exactly prometheus, one a line.
prometheus_pids() { pgrep -x prometheus 2>/dev/null | sort || true; }

install_prometheus_package() {
  local before after pid
  before="$(prometheus_pids)"
  printf '[bootstrap] %s\n' "prometheus: installing the Debian package ..." >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >&2 || return 1
  # The service manager stops what it started (with systemd, or the init script's pid file).
  (systemctl stop prometheus || service prometheus stop) >/dev/null 2>&1 || true
  # Without either, stop by pid what appeared during the install and nothing else.
  after="$(prometheus_pids)"
  for pid in $(comm -13 <(echo "$before") <(echo "$after")); do
    printf '[bootstrap] %s\n' "prometheus: stopping pid $pid, started by the package install" >&2
    kill "$pid" 2>/dev/null || true
  done
}
