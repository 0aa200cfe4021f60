#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for tests and the demonstration.
#   tools/pg-temp.sh start DIR   -> prints the port; data in DIR (created)
#   tools/pg-temp.sh stop DIR
# As root the server runs as the postgres user (initdb refuses root). fsync stays on.
set -euo pipefail
cmd=${1:?usage: pg-temp.sh start|stop DIR}
dir=${2:?usage: pg-temp.sh start|stop DIR}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$bindir/initdb" ] || { echo "pg-temp: PostgreSQL server binaries not found" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}
case "$cmd" in
  start)
    mkdir -p "$dir"; chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=500 -c shared_buffers=128MB" start
    echo "$port" >"$dir/port"
    echo "$port"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 -s stop || true
    ;;
  *) echo "usage: pg-temp.sh start|stop DIR" >&2; exit 2 ;;
esac
