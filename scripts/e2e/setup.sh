#!/usr/bin/env bash
# Installs what the end-to-end tests need, all of it under .e2e/ in the repository (git-ignored):
#   .e2e/node/          Node 24 from the npm package node-linux-<arch> (code-server requires Node 24)
#   .e2e/code-server/   code-server (VS Code server build) installed with that Node 24
#   .e2e/playwright/    playwright-core (drives Debian's chromium; never downloads browsers)
# plus Debian packages via apt-get (chromium, fonts, headers for code-server's native modules).
#
# Idempotent: every step checks what is already there and skips it; a second run takes about a
# second. Works as root on a fresh Debian machine with CI=true and no TTY (uses sudo when not root).
#
# Environment (all optional):
#   E2E_DIR              install folder (default: <repo>/.e2e)
#   E2E_NODE_VERSION     Node 24 version from npm (default 24.22.3)
#   E2E_CODE_SERVER      code-server version (default 4.139.1 = VS Code 1.139.1)
#   E2E_PLAYWRIGHT       playwright-core version (default 1.65.1)
#   E2E_SKIP_APT=1       do not touch Debian packages (they must already be installed)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E_DIR="${E2E_DIR:-$ROOT/.e2e}"
NODE_VERSION="${E2E_NODE_VERSION:-24.22.3}"
CODE_SERVER_VERSION="${E2E_CODE_SERVER:-4.139.1}"
PLAYWRIGHT_VERSION="${E2E_PLAYWRIGHT:-1.65.1}"
APT_PACKAGES=(chromium fonts-liberation libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)

export DEBIAN_FRONTEND=noninteractive
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

T_ALL=$SECONDS
step() { STEP_NAME="$1"; STEP_T=$SECONDS; echo "[e2e-setup] $1 ..."; }
done_step() { echo "[e2e-setup] $STEP_NAME: ${1:-done} ($((SECONDS - STEP_T)) s)"; }
die() { echo "[e2e-setup] ERROR: $*" >&2; exit 1; }

mkdir -p "$E2E_DIR"
rm -rf "$E2E_DIR"/.node-* # left by an interrupted run

# ---------------------------------------------------------------- Debian packages
step "Debian packages (${APT_PACKAGES[*]})"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  done_step "already installed"
elif [ "${E2E_SKIP_APT:-}" = 1 ]; then
  die "missing Debian packages: ${missing[*]} (E2E_SKIP_APT=1)"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then command -v sudo >/dev/null || die "not root and no sudo; install: ${missing[*]}"; SUDO="sudo -n"; fi
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q "${missing[@]}"
  done_step "installed ${missing[*]}"
fi
command -v chromium >/dev/null || die "chromium not on PATH after apt-get"

# ---------------------------------------------------------------- Node 24
case "$(uname -m)" in
  x86_64|amd64) NODE_ARCH=x64 ;;
  aarch64|arm64) NODE_ARCH=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
NODE_DIR="$E2E_DIR/node"
NODE24="$NODE_DIR/bin/node"
step "Node $NODE_VERSION (npm package node-linux-$NODE_ARCH)"
if [ -x "$NODE24" ] && [ "$("$NODE24" --version 2>/dev/null)" = "v$NODE_VERSION" ] && [ -d "$NODE_DIR/include/node" ]; then
  done_step "already there"
else
  tmp="$(mktemp -d "$E2E_DIR/.node-XXXXXX")"
  (cd "$tmp" && npm pack "node-linux-$NODE_ARCH@$NODE_VERSION" --silent >/dev/null)
  mkdir -p "$tmp/x"
  tar xzf "$tmp"/node-linux-*.tgz -C "$tmp/x"
  chmod +x "$tmp/x/package/bin/node"
  "$tmp/x/package/bin/node" --version >/dev/null || die "unpacked Node does not run"
  rm -rf "$NODE_DIR"
  mv "$tmp/x/package" "$NODE_DIR"
  rm -rf "$tmp"
  done_step "$("$NODE24" --version)"
fi

# ---------------------------------------------------------------- code-server
CS_DIR="$E2E_DIR/code-server"
CS_PKG="$CS_DIR/node_modules/code-server"
CS_STAMP="$CS_DIR/.installed-$CODE_SERVER_VERSION-node-$NODE_VERSION"
step "code-server $CODE_SERVER_VERSION"
if [ -f "$CS_STAMP" ] && [ -f "$CS_PKG/out/node/entry.js" ]; then
  done_step "already there"
else
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  # A package.json of its own, so npm treats this folder as the project (not the repository).
  printf '{ "name": "bert-lab-e2e-code-server", "private": true }\n' > "$CS_DIR/package.json"
  # Node 24 first on PATH: npm (a "#!/usr/bin/env node" script) and code-server's install scripts
  # run on it; nodedir points node-gyp at Node 24's own headers (no download).
  (
    cd "$CS_DIR"
    # Called from an npm script, the outer npm's variables (npm_config_user_agent says "node/v20")
    # would reach code-server's postinstall, which checks the Node version through them.
    for v in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
    export PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR"
    [ "$(node --version)" = "v$NODE_VERSION" ] || die "Node 24 is not first on PATH"
    # --strict-allow-scripts=false: code-server's postinstall (it installs VS Code's own modules)
    # and its native builds must run; newer npm only warns about them unless strict.
    rc=0
    npm install "code-server@$CODE_SERVER_VERSION" --foreground-scripts --no-save --no-package-lock \
      --strict-allow-scripts=false --loglevel=warn > "$E2E_DIR/code-server-install.log" 2>&1 || rc=$?
    tail -n 25 "$E2E_DIR/code-server-install.log"
    exit "$rc"
  ) || die "npm install code-server failed (full log: $E2E_DIR/code-server-install.log)"
  [ -f "$CS_PKG/out/node/entry.js" ] || die "code-server installed without out/node/entry.js"
  touch "$CS_STAMP"
  done_step "$(du -sh "$CS_DIR" | cut -f1)"
fi

# ---------------------------------------------------------------- playwright-core
PW_DIR="$E2E_DIR/playwright"
step "playwright-core $PLAYWRIGHT_VERSION"
pw_installed="$(node -p "try{require('$PW_DIR/node_modules/playwright-core/package.json').version}catch{''}" 2>/dev/null || true)"
if [ "$pw_installed" = "$PLAYWRIGHT_VERSION" ]; then
  done_step "already there"
else
  mkdir -p "$PW_DIR"
  printf '{ "name": "bert-lab-e2e-playwright", "private": true }\n' > "$PW_DIR/package.json"
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing anyway; belt and braces.
  (cd "$PW_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install "playwright-core@$PLAYWRIGHT_VERSION" \
    --no-save --no-package-lock --loglevel=warn) || die "npm install playwright-core failed"
  done_step "installed"
fi

# ---------------------------------------------------------------- summary
cat > "$E2E_DIR/env.json" <<EOF
{
  "node24": "$NODE24",
  "codeServer": "$CS_PKG/out/node/entry.js",
  "codeServerVersion": "$CODE_SERVER_VERSION",
  "playwrightCore": "$PW_DIR/node_modules/playwright-core",
  "chromium": "$(command -v chromium)"
}
EOF
echo "[e2e-setup] chromium: $(chromium --version 2>/dev/null || echo '?')"
echo "[e2e-setup] all done in $((SECONDS - T_ALL)) s (details in $E2E_DIR/env.json)"
