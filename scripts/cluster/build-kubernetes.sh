#!/usr/bin/env bash
# Builds the Kubernetes binaries (apiserver, controller-manager, scheduler, kubelet,
# kube-proxy and kubectl) from the Go module proxy into a version-keyed cache dir.
#   scripts/cluster/build-kubernetes.sh DIR VERSION
# `go install k8s.io/kubernetes/cmd/...` is refused (its go.mod replaces the staging
# modules with ./staging paths), so a wrapper module requires k8s.io/kubernetes and
# replaces each staging module with its published v0.X.Y twin.
set -euo pipefail
dir=$1 version=$2
minor=${version#v1.}; minor=${minor%%.*}
staging_version="v0.${version#v1.}"
src="$dir/src"
mkdir -p "$src"
cd "$src"
GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$version" >/dev/null
upstream_mod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$version.mod"
{
  echo "module greeter-kubernetes-build"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  # every staging module but the samples (refused by the proxy and not needed)
  grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging' "$upstream_mod" | awk '{print $1}' |
    grep -v -E '^k8s.io/sample-' | while read -r m; do echo "	$m => $m $staging_version"; done
  echo ")"
} >go.mod
cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$version -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
mkdir -p "$dir/bin.partial"
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dir/bin.partial/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy \
  k8s.io/kubernetes/cmd/kubectl
rm -rf "$dir/bin" && mv "$dir/bin.partial" "$dir/bin"
