# Shared helpers for scripts/mosquitto.sh and scripts/influxdb.sh: start a daemon detached from the
# caller, wait until it serves, stop it by PID. Sourced, not executed.

# True when PID names a live process. A zombie counts as dead: the daemon is detached with setsid, so
# its parent is PID 1, and an init that does not reap (as in some containers) would otherwise leave
# `kill -0` succeeding for ever.
daemon_alive() {
  local pid=$1
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local state
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [[ "$state" != "Z" && -n "$state" ]]
}

# Prints the PID recorded in FILE if that process is alive; removes a stale file.
daemon_pid() {
  local file=$1 pid
  [[ -f "$file" ]] || return 1
  pid=$(<"$file")
  if daemon_alive "$pid"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts a command in its own session, stdout/stderr appended to LOG, and records its PID in PIDFILE.
#   daemon_spawn PIDFILE LOG cmd args...
daemon_spawn() {
  local pidfile=$1 log=$2
  shift 2
  setsid "$@" >>"$log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$pidfile"
}

# Waits until CHECK (a command) succeeds while PID stays alive. Returns 1 if the process died,
# 2 on timeout.
#   daemon_wait_ready PID TIMEOUT_S check args...
daemon_wait_ready() {
  local pid=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    daemon_alive "$pid" || return 1
    if "$@"; then return 0; fi
    sleep 0.1
  done
  return 2
}

# SIGTERM, wait up to TIMEOUT seconds, then SIGKILL.
#   daemon_stop PIDFILE TIMEOUT_S NAME
daemon_stop() {
  local pidfile=$1 timeout=$2 name=$3 pid
  if ! pid=$(daemon_pid "$pidfile"); then
    echo "$name: not running"
    return 0
  fi
  # daemon_spawn made the process a session (and process group) leader; signalling the group also
  # reaches children, e.g. the node process that `tsx` starts for a service.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while daemon_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if daemon_alive "$pid"; then
    echo "$name: pid $pid ignored SIGTERM for ${timeout}s, sending SIGKILL" >&2
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while daemon_alive "$pid"; do sleep 0.05; done
  fi
  rm -f "$pidfile"
  echo "$name: stopped (pid $pid)"
}

# Replaces @KEY@ placeholders in TEMPLATE with the values of the given KEY=VALUE pairs, writes OUT.
#   render_template TEMPLATE OUT KEY=VALUE...
render_template() {
  local template=$1 out=$2
  shift 2
  local text kv
  text=$(<"$template")
  for kv in "$@"; do
    text=${text//"@${kv%%=*}@"/"${kv#*=}"}
  done
  if [[ "$text" =~ @[A-Z_]+@ ]]; then
    echo "render_template: unfilled placeholder ${BASH_REMATCH[0]} in $template" >&2
    return 1
  fi
  printf '%s\n' "$text" >"$out.tmp"
  mv "$out.tmp" "$out"
}

die() {
  echo "$*" >&2
  exit 1
}
