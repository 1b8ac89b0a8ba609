#!/usr/bin/env bash
# Builds a Go module that lives in this repository (go.mod/go.sum committed) into the tools
# cache, keyed by a hash of its sources: an edit rebuilds it, nothing else does. Used by
# scripts/cluster/tools.sh (the External metrics adapter) and loadtest/peers/peers.sh (the Go peer).
#   source scripts/lib/go-module.sh
#   dir="$CACHE/NAME-$(src_hash SRC)"; local_module_tool "$dir" NAME SRC
# The caller defines CACHE (the tools dir) and say (its log line).

# src_hash DIR: 12 hex digits of a sha256 over a local Go module's go.mod, go.sum and non-test
# .go files (names included).
src_hash() { (cd "$1" && sha256sum go.mod go.sum *.go | grep -v '_test\.go$' | sha256sum | cut -c1-12); }

# local_module_tool DIR NAME SRC: builds the Go module in SRC into DIR/NAME, where DIR is
# $CACHE/NAME-<src_hash>; builds of older sources ($CACHE/NAME-*) are removed.
local_module_tool() {
  local dir=$1 name=$2 src=$3 started=$SECONDS old
  if [[ -x "$dir/$name" ]]; then say "$name: cached at $dir"; return; fi
  command -v go >/dev/null 2>&1 || { say "$name: a Go toolchain is needed to build $src"; return 1; }
  say "$name: building $src (after each change to it) ..."
  mkdir -p "$dir"
  (
    cd "$src"
    # -mod=readonly: the committed go.mod/go.sum decide every version; no VCS stamp, so the
    # binary depends only on the hashed sources.
    CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags '-s -w' -o "$dir/$name.partial" . >&2
    mv "$dir/$name.partial" "$dir/$name"
  )
  for old in "$CACHE/$name"-*; do [[ ! -d "$old" || "$old" == "$dir" ]] || rm -rf "$old"; done
  say "$name: built in $((SECONDS - started))s"
}
