# Helpers shared by scripts/up and scripts/test. Sourced, not run.

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_cargo() {
  command -v cargo >/dev/null 2>&1 && return 0
  [ -x "$HOME/.cargo/bin/cargo" ] && { export PATH="$HOME/.cargo/bin:$PATH"; return 0; }
  die "cargo not found: install the Rust toolchain (https://rustup.rs) and run this again"
}

# Root runs apt-get directly; anyone else goes through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# redis-server and redis-cli from the OS packages (Debian/Ubuntu: apt-get).
ensure_redis_server_binary() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server from the OS packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
  elif command -v brew >/dev/null 2>&1; then
    brew install redis
  else
    die "redis-server not found and no known package manager: install Redis 7 and run this again"
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after installing"
}

# Debian's docker-compose (v1), used only to validate docker-compose.yml.
ensure_docker_compose() {
  command -v docker-compose >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1; then
    say "installing docker-compose from the OS packages (to validate docker-compose.yml)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker-compose >/dev/null
  else
    die "docker-compose not found: install it to validate docker-compose.yml"
  fi
}

# Debian's Chromium and its WebDriver, for the dashboard's browser tests.
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1; then
    say "installing chromium and chromium-driver from the OS packages (for the dashboard's browser tests)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    die "chromium and chromedriver not found: install them to run the dashboard's browser tests"
  fi
  command -v chromedriver >/dev/null 2>&1 || die "chromedriver still not found after installing"
}
