# Shared by scripts/bench and scripts/bench-models: a work directory, cleanup
# of what was started, and the measurements. Sourced, not run.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${redis_port:-}" ] && redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rps() { awk '/Requests\/sec/ {print $2}'; }
metric() { curl -s "http://$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rcli() { redis-cli -p "$redis_port" "$@"; }
# Redis's own time in commands (µs, from INFO commandstats) and its CPU (s).
redis_usec() { rcli INFO commandstats | tr -d '\r' | awk -F'usec=' '/^cmdstat_/ {split($2, a, ","); s += a[1]} END {print s + 0}'; }
redis_cpu() { rcli INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ {s += $2} END {print s}'; }
per() { python3 -c "print(f'{($2 - $1) / $3:.2f}')"; }
now() { date +%s.%N; }
# Waits until the sum of field n over the given model hashes reaches $1.
wait_applied() {
  local target=$1; shift
  while :; do
    local total=0
    for key in "$@"; do total=$((total + $(rcli HGET "$key" n | sed 's/^$/0/'))); done
    [ "$total" -ge "$target" ] && return 0
    sleep 0.005
  done
}

