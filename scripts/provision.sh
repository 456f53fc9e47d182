#!/usr/bin/env bash
# Installs the services of a Kontrol node into a per-version cache outside the repository, so fresh
# clones reuse earlier builds:
#   - PostgreSQL 15 from Debian's packages (apt-get, when its server binaries are missing);
#   - the Temporal server and temporal-sql-tool (go.temporal.io/server), with its SQL schema;
#   - the Temporal Web UI server (github.com/temporalio/ui-server/v2, assets embedded);
#   - FerretDB (the MongoDB wire protocol on PostgreSQL);
#   - the Temporal CLI (operator commands, and the dev server some fast tests use).
# Prints nothing but progress on stderr; exits non-zero if a build fails.
set -euo pipefail

TEMPORAL_SERVER_VERSION="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
TEMPORAL_UI_VERSION="${TEMPORAL_UI_VERSION:-v2.42.1}"
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
POSTGRES_VERSION="${POSTGRES_VERSION:-15}"
CACHE_DIR="${KONTROL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kontrol/tools}"

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends "$@" >/dev/null ||
    { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# Builds one or more packages of a Go module at an exact version into $CACHE_DIR/<name>-<version>.
# Usage: install_go_tool NAME VERSION MODULE "PKG:BINARY [PKG:BINARY…]" ["DIR_TO_KEEP …"]
install_go_tool() {
  local name="$1" version="$2" module="$3" targets="$4" keep="${5:-}"
  local dir="$CACHE_DIR/$name-$version"
  local target present=1
  for target in $targets; do [ -x "$dir/${target#*:}" ] || present=0; done
  if [ "$present" = 1 ]; then
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
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  local build_dir="$src"
  # FerretDB refuses to start unless build/version/version.txt (written by its release tooling,
  # absent from the module) names the version: build a writable copy with that file written.
  if [ -d "$src/build/version" ] && [ ! -s "$src/build/version/version.txt" ]; then
    mkdir -p "$dir.tmp/src"
    cp -R "$src/." "$dir.tmp/src" && chmod -R u+w "$dir.tmp/src"
    echo "$version" > "$dir.tmp/src/build/version/version.txt"
    build_dir="$dir.tmp/src"
  fi
  for target in $targets; do
    (cd "$build_dir" && GOFLAGS=-buildvcs=false go build -o "$dir.tmp/${target#*:}" "./${target%%:*}")
  done
  local path
  for path in $keep; do
    mkdir -p "$dir.tmp/$(dirname "$path")"
    cp -R "$src/$path" "$dir.tmp/$path" && chmod -R u+w "$dir.tmp/$path"
  done
  rm -rf "$dir.tmp/src"
  # Built in a temporary directory and renamed, so an interrupted build never looks installed.
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

command -v go >/dev/null || { echo "provision: Go is required (https://go.dev/dl/)" >&2; exit 1; }

# One provision at a time per cache (npm start and npm test may run together); builds in the
# background die with this script if it fails.
mkdir -p "$CACHE_DIR"
if command -v flock >/dev/null; then
  exec 9>"$CACHE_DIR/.provision.lock"
  flock 9
fi
trap 'jobs -p | xargs -r kill 2>/dev/null' EXIT

if [ ! -x "/usr/lib/postgresql/$POSTGRES_VERSION/bin/postgres" ]; then
  command -v apt-get >/dev/null ||
    { echo "provision: PostgreSQL $POSTGRES_VERSION is missing and there is no apt-get to install it" >&2; exit 1; }
  echo "provision: installing Debian's postgresql-$POSTGRES_VERSION" >&2
  apt_install "postgresql-$POSTGRES_VERSION"
else
  echo "provision: PostgreSQL $POSTGRES_VERSION present" >&2
fi

# Two at a time: the machine this runs on may have two cores and the Temporal server is the big one.
install_go_tool temporal-server "$TEMPORAL_SERVER_VERSION" go.temporal.io/server \
  "cmd/server:temporal-server cmd/tools/sql:temporal-sql-tool" "schema/postgresql" &
s=$!
install_go_tool ferretdb "$FERRETDB_VERSION" github.com/FerretDB/FerretDB "cmd/ferretdb:ferretdb" &
f=$!
wait "$f"
install_go_tool temporal-ui "$TEMPORAL_UI_VERSION" github.com/temporalio/ui-server/v2 "cmd/server:ui-server" &
u=$!
wait "$u"
install_go_tool temporal "$TEMPORAL_CLI_VERSION" github.com/temporalio/cli "cmd/temporal:temporal" &
t=$!
wait "$s"
wait "$t"

# The browser tests drive Debian's Chromium through playwright-core (npm downloads no browser).
# `provision.sh --browser` (npm test) installs it when it is missing; CHROMIUM_PATH points elsewhere.
if [ "${1:-}" = "--browser" ]; then
  chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$chromium_path" ]; then
    echo "provision: chromium present at $chromium_path" >&2
  elif command -v apt-get >/dev/null; then
    echo "provision: installing Debian's chromium for the browser tests" >&2
    apt_install chromium
  else
    echo "provision: no chromium at $chromium_path and no apt-get to install it; set CHROMIUM_PATH" >&2
    exit 1
  fi
fi

# The API fuzzing (`npm run fuzz`) runs schemathesis from PyPI in a virtual environment of its own,
# cached by version like the tools above. `provision.sh --fuzz` installs it when it is missing.
if [ "${1:-}" = "--fuzz" ]; then
  SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
  venv="$CACHE_DIR/schemathesis-$SCHEMATHESIS_VERSION"
  # A venv's scripts name their interpreter by path, so it is built in place; the marker says done.
  if [ -f "$venv/.installed" ]; then
    echo "provision: schemathesis $SCHEMATHESIS_VERSION present in $venv" >&2
  else
    echo "provision: installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
    command -v python3 >/dev/null || apt_install python3 python3-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
    touch "$venv/.installed"
  fi
fi
