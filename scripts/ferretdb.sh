#!/usr/bin/env bash
# Builds FerretDB 1.24 (a MongoDB wire protocol server) into .tools/bin and runs it on loopback
# for tests, backed by the local PostgreSQL or, when PostgreSQL is unreachable, by SQLite.
#
#   scripts/ferretdb.sh install   build .tools/bin/ferretdb unless that version is already there
#   scripts/ferretdb.sh start     start on 127.0.0.1 (free port), wait until it serves requests,
#                                 print the MongoDB URI on stdout
#   scripts/ferretdb.sh status    print the URI of the running instance, exit 1 when none runs
#   scripts/ferretdb.sh stop      stop the instance and remove what an ephemeral start created
#
# Environment:
#   FERRETDB_STATE_DIR     folder of the instance's env file, log and SQLite data
#                          (default: <project>/.tools/ferretdb). One instance per folder.
#   FERRETDB_BACKEND       auto | postgresql | sqlite (default: auto = PostgreSQL if reachable)
#   FERRETDB_PG_DATABASE   PostgreSQL database to use, created if missing
#                          (default: shopstream_test_ferretdb)
#   FERRETDB_EPHEMERAL     1: use a fresh database shopstream_test_ferretdb_<random> (or a fresh
#                          SQLite folder) and delete it on stop (default: 0)
#   FERRETDB_PG_POOL_MAX_CONNS  PostgreSQL connections FerretDB may open (default: 10). Keep the
#                          MongoDB clients' maxPoolSize total below it: FerretDB 1.24 can deadlock
#                          when that many write commands are in flight at once.
#   FERRETDB_START_TIMEOUT seconds to wait for the server to serve requests (default: 30)
#   PGHOST, PGPORT, PGUSER PostgreSQL connection (default: 127.0.0.1, 5432, postgres; trust auth)
#   GO                     Go binary (default: go on PATH, else /usr/local/go/bin/go)
#
# The start writes <state dir>/ferretdb.env with FERRETDB_PID, FERRETDB_URI, FERRETDB_BACKEND,
# FERRETDB_PG_DATABASE, FERRETDB_DROP_PG_DATABASE and FERRETDB_SQLITE_DIR.
# Telemetry is disabled and the debug HTTP listener is off, so FerretDB opens no connection
# beyond loopback.
set -euo pipefail

readonly FERRETDB_VERSION=v1.24.2
readonly FERRETDB_MODULE=github.com/FerretDB/FerretDB

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly PROJECT_DIR
readonly TOOLS_DIR="$PROJECT_DIR/.tools"
readonly FERRETDB_BIN="$TOOLS_DIR/bin/ferretdb"
readonly STATE_DIR="${FERRETDB_STATE_DIR:-$TOOLS_DIR/ferretdb}"
readonly ENV_FILE="$STATE_DIR/ferretdb.env"
readonly LOG_FILE="$STATE_DIR/ferretdb.log"

export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-3}"

log() {
  echo "ferretdb.sh: $*" >&2
}

fail() {
  log "$*"
  exit 1
}

go_binary() {
  if [[ -n "${GO:-}" ]]; then
    echo "$GO"
  elif command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    fail "Go not found: install Go 1.24 or newer, or set GO to the go binary"
  fi
}

installed_version() {
  [[ -x "$FERRETDB_BIN" ]] || return 0
  "$FERRETDB_BIN" --version 2>/dev/null | sed -n 's/^version: //p'
}

install() {
  if [[ "$(installed_version)" == "$FERRETDB_VERSION" ]]; then
    log "FerretDB $FERRETDB_VERSION already built at $FERRETDB_BIN"
    return 0
  fi

  local go build_dir source_dir
  go=$(go_binary)
  build_dir=$(mktemp -d)
  # The subshell confines the cleanup trap to this function.
  (
    trap 'chmod -R u+w "$build_dir" 2>/dev/null; rm -rf "$build_dir"' EXIT
    cd "$build_dir"
    export GOTOOLCHAIN=local GOFLAGS=-mod=mod

    # `go install $FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION` builds a binary that panics at
    # start ("Invalid build/version/version.txt file content"), because FerretDB 1.24 reads its
    # version from build/version/version.txt and the module download lacks that generated file.
    # So build the same module source with the file written, as that panic message instructs.
    log "downloading $FERRETDB_MODULE@$FERRETDB_VERSION (the first time takes a few minutes)"
    source_dir=$("$go" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -n "$source_dir" && -d "$source_dir" ]] || fail "go mod download returned no source folder for $FERRETDB_MODULE@$FERRETDB_VERSION"

    cp -R "$source_dir/." "$build_dir/src"
    chmod -R u+w "$build_dir/src"
    echo "$FERRETDB_VERSION" >"$build_dir/src/build/version/version.txt"

    log "building FerretDB $FERRETDB_VERSION"
    mkdir -p "$TOOLS_DIR/bin"
    cd "$build_dir/src"
    "$go" build -buildvcs=false -o "$FERRETDB_BIN.partial" ./cmd/ferretdb
    mv "$FERRETDB_BIN.partial" "$FERRETDB_BIN"
  )

  [[ "$(installed_version)" == "$FERRETDB_VERSION" ]] || fail "built $FERRETDB_BIN does not report version $FERRETDB_VERSION"
  log "FerretDB $FERRETDB_VERSION built at $FERRETDB_BIN"
}

env_value() {
  sed -n "s/^$1=//p" "$ENV_FILE" 2>/dev/null | head -n 1
}

# Succeeds when the env file names a live process started from our FerretDB binary, so a
# recycled pid is never mistaken for the server.
is_running() {
  local pid
  pid=$(env_value FERRETDB_PID)
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$FERRETDB_BIN"
}

postgresql_reachable() {
  command -v psql >/dev/null 2>&1 || return 1
  psql -d postgres -tAc 'SELECT 1' >/dev/null 2>&1
}

create_pg_database() {
  local name=$1
  [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || fail "invalid PostgreSQL database name '$name': use lower-case letters, digits and _"
  if [[ -z "$(psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]]; then
    log "creating PostgreSQL database $name"
    psql -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# Prints host:port from the "Listening on TCP ..." log line, once FerretDB has written it.
listen_address() {
  sed -n 's/.*Listening on TCP \([0-9.]*:[0-9]*\)\.\.\..*/\1/p' "$LOG_FILE" | head -n 1
}

# Runs one command that reaches the storage backend, so "ready" also covers PostgreSQL.
probe() {
  (cd "$PROJECT_DIR" && node -e '
    const { MongoClient } = require("mongodb");
    const client = new MongoClient(process.argv[1], { serverSelectionTimeoutMS: 1000 });
    client.db("admin").command({ listDatabases: 1 })
      .then(() => client.close(), (error) => client.close().then(() => { throw error; }))
      .catch(() => process.exit(1));
  ' "$1") >/dev/null 2>&1
}

start() {
  if is_running; then
    log "FerretDB already running (pid $(env_value FERRETDB_PID))"
    env_value FERRETDB_URI
    return 0
  fi
  install
  mkdir -p "$STATE_DIR"

  local backend="${FERRETDB_BACKEND:-auto}"
  local ephemeral="${FERRETDB_EPHEMERAL:-0}"
  local pg_database="" drop_pg_database=0 sqlite_dir=""
  if [[ "$backend" == auto ]]; then
    if postgresql_reachable; then backend=postgresql; else backend=sqlite; fi
  fi

  local backend_flags=()
  case "$backend" in
    postgresql)
      postgresql_reachable || fail "PostgreSQL unreachable at $PGHOST:$PGPORT as $PGUSER"
      if [[ "$ephemeral" == 1 ]]; then
        pg_database="shopstream_test_ferretdb_$(date +%s)_$$_$RANDOM"
        drop_pg_database=1
      else
        pg_database="${FERRETDB_PG_DATABASE:-shopstream_test_ferretdb}"
      fi
      create_pg_database "$pg_database"
      # pgx reads pool_max_conns from the URL; a small pool per FerretDB keeps parallel test runs
      # within PostgreSQL's default max_connections (100). FerretDB 1.24 can deadlock once the
      # write commands in flight reach this size, so clients must keep their own pools smaller.
      local pool_max_conns="${FERRETDB_PG_POOL_MAX_CONNS:-10}"
      [[ "$pool_max_conns" =~ ^[1-9][0-9]*$ ]] || fail "invalid FERRETDB_PG_POOL_MAX_CONNS '$pool_max_conns': use a positive integer"
      backend_flags=(--handler=postgresql "--postgresql-url=postgres://$PGUSER@$PGHOST:$PGPORT/$pg_database?pool_max_conns=$pool_max_conns")
      ;;
    sqlite)
      log "PostgreSQL not used: running FerretDB on its SQLite backend"
      sqlite_dir="$STATE_DIR/sqlite"
      if [[ "$ephemeral" == 1 ]]; then rm -rf "$sqlite_dir"; fi
      mkdir -p "$sqlite_dir"
      backend_flags=(--handler=sqlite "--sqlite-url=file:$sqlite_dir/")
      ;;
    *)
      fail "invalid FERRETDB_BACKEND '$backend': use auto, postgresql or sqlite"
      ;;
  esac

  : >"$LOG_FILE"
  # DO_NOT_TRACK is FerretDB's second telemetry switch; --debug-addr=- turns off the HTTP
  # debug listener, which would otherwise take the fixed port 8088.
  DO_NOT_TRACK=1 "$FERRETDB_BIN" \
    "${backend_flags[@]}" \
    --listen-addr=127.0.0.1:0 \
    --debug-addr=- \
    --telemetry=disable \
    --state-dir="$STATE_DIR" \
    --log-format=json \
    --log-level=INFO \
    </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!

  {
    echo "FERRETDB_PID=$pid"
    echo "FERRETDB_BACKEND=$backend"
    echo "FERRETDB_PG_DATABASE=$pg_database"
    echo "FERRETDB_DROP_PG_DATABASE=$drop_pg_database"
    echo "FERRETDB_SQLITE_DIR=$sqlite_dir"
    echo "FERRETDB_EPHEMERAL=$ephemeral"
  } >"$ENV_FILE"

  local deadline=$((SECONDS + ${FERRETDB_START_TIMEOUT:-30}))
  local address="" uri=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$LOG_FILE" >&2 || true
      stop >/dev/null
      fail "FerretDB exited during start; log above and in $LOG_FILE"
    fi
    if [[ -z "$address" ]]; then
      address=$(listen_address)
    fi
    if [[ -n "$address" ]]; then
      uri="mongodb://$address/"
      if probe "$uri"; then
        echo "FERRETDB_URI=$uri" >>"$ENV_FILE"
        log "FerretDB $FERRETDB_VERSION ($backend) serving at $uri, pid $pid"
        echo "$uri"
        return 0
      fi
    fi
    sleep 0.2
  done

  tail -n 20 "$LOG_FILE" >&2 || true
  stop >/dev/null
  fail "FerretDB did not serve requests within ${FERRETDB_START_TIMEOUT:-30} s; log above"
}

status() {
  if is_running; then
    env_value FERRETDB_URI
  else
    log "FerretDB is not running for state folder $STATE_DIR"
    return 1
  fi
}

stop() {
  if [[ ! -f "$ENV_FILE" ]]; then
    log "FerretDB is not running for state folder $STATE_DIR"
    return 0
  fi

  if is_running; then
    local pid
    pid=$(env_value FERRETDB_PID)
    kill -TERM "$pid"
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "FerretDB (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "FerretDB stopped (pid $pid)"
  fi

  local pg_database sqlite_dir
  pg_database=$(env_value FERRETDB_PG_DATABASE)
  sqlite_dir=$(env_value FERRETDB_SQLITE_DIR)
  if [[ "$(env_value FERRETDB_DROP_PG_DATABASE)" == 1 && -n "$pg_database" ]]; then
    log "dropping PostgreSQL database $pg_database"
    psql -d postgres -qc "DROP DATABASE IF EXISTS \"$pg_database\" WITH (FORCE)" >/dev/null ||
      log "dropping PostgreSQL database $pg_database failed; drop it by hand"
  fi
  if [[ "$(env_value FERRETDB_EPHEMERAL)" == 1 && -n "$sqlite_dir" ]]; then
    rm -rf "$sqlite_dir"
  fi
  rm -f "$ENV_FILE"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  status) status ;;
  stop) stop ;;
  *)
    echo "usage: $0 install|start|status|stop" >&2
    exit 2
    ;;
esac
