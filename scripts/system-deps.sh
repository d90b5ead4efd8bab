#!/usr/bin/env bash
# Install the Debian packages a Kefu feature needs, when they are missing.
#   scripts/system-deps.sh run    gettext (compiling translations), Pango and fonts-noto-cjk (the
#                                 monthly report's PDF, rendered by WeasyPrint)
#   scripts/system-deps.sh test   + chromium (browser tests), dovecot-imapd
#                                 (the mail tests' IMAP server)
#   scripts/system-deps.sh bench  + wrk (the load client of make bench)
# As root (as in CI) it installs with apt-get; otherwise it prints the exact line to run and
# carries on: the feature that needs the package says clearly what is missing.
set -u
want=(gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk)
if [ "${1:-run}" = test ]; then
  want+=(chromium dovecot-imapd)
fi
if [ "${1:-run}" = bench ]; then
  want+=(wrk)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } \
    || echo "WARNING: could not install ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
else
  echo "Missing system packages: ${missing[*]}"
  echo "  install them with: sudo apt-get install -y ${missing[*]}"
fi
exit 0
