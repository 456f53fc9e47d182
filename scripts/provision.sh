#!/usr/bin/env bash
# Installs the local stand-ins for production services (Temporal CLI dev server, FerretDB)
# into a per-version cache outside the repository, so fresh clones reuse earlier builds.
# Prints nothing but progress on stderr; exits non-zero if a build fails.
set -euo pipefail

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
CACHE_DIR="${KONTROL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kontrol/tools}"

install_go_tool() {
  local name="$1" version="$2" module="$3" package="$4" binary="$5"
  local dir="$CACHE_DIR/$name-$version"
  if [ -x "$dir/$binary" ]; then
    echo "provision: $name $version present in $dir" >&2
    return 0
  fi
  echo "provision: building $name $version into $dir (first time only; may take minutes)" >&2
  # Not `go install mod@version`: that asks the module proxy for the module's version list (to
  # report deprecations), which the proxy reachable here refuses for FerretDB. Downloading the
  # exact version and building inside it uses only the module's own go.mod and go.sum.
  local src
  src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] || { echo "provision: could not download $module@$version" >&2; return 1; }
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/src"
  # Build a writable copy: FerretDB refuses to start unless build/version/version.txt (written by
  # its release tooling, absent from the module) names the version.
  cp -R "$src/." "$dir.tmp/src" && chmod -R u+w "$dir.tmp/src"
  if [ -d "$dir.tmp/src/build/version" ] && [ ! -s "$dir.tmp/src/build/version/version.txt" ]; then
    echo "$version" > "$dir.tmp/src/build/version/version.txt"
  fi
  # Build into a temporary directory and rename, so an interrupted build never looks installed.
  (cd "$dir.tmp/src" && GOFLAGS=-buildvcs=false go build -o "../$binary" "./$package")
  rm -rf "$dir.tmp/src"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

command -v go >/dev/null || { echo "provision: Go is required (https://go.dev/dl/)" >&2; exit 1; }

install_go_tool temporal "$TEMPORAL_CLI_VERSION" github.com/temporalio/cli cmd/temporal temporal &
t=$!
install_go_tool ferretdb "$FERRETDB_VERSION" github.com/FerretDB/FerretDB cmd/ferretdb ferretdb &
f=$!
wait "$t"
wait "$f"

# The browser tests drive Debian's Chromium through playwright-core (npm downloads no browser).
# `provision.sh --browser` (npm test) installs it when it is missing; CHROMIUM_PATH points elsewhere.
if [ "${1:-}" = "--browser" ]; then
  chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$chromium_path" ]; then
    echo "provision: chromium present at $chromium_path" >&2
  elif command -v apt-get >/dev/null; then
    echo "provision: installing Debian's chromium for the browser tests" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends chromium >/dev/null ||
      { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends chromium >/dev/null; }
  else
    echo "provision: no chromium at $chromium_path and no apt-get to install it; set CHROMIUM_PATH" >&2
    exit 1
  fi
fi
