#!/usr/bin/env bash
# Debian packages the tests use for real: LibreOffice (reads back what brandkit writes), dovecot (IMAP
# intake), CJK fonts (summary charts), Carlito and poppler-utils (print tests), unar/bsdtar (rar
# attachments), Chromium (the local web page's browser tests: Playwright drives this one, its own browser
# download being unavailable offline). Installed when running as root.
set -euo pipefail
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
# Writer too: .doc/.wps forms are converted with it (no soffice at all also means no Writer)
ls /usr/lib/libreoffice/program/libswlo.so >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 \
  || need+=(libreoffice-writer-nogui)
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
# Carlito has Calibri's metrics: without it LibreOffice sizes columns by a wider font than Excel does,
# and the print tests (tests/test_print_render.py) would measure pages no Excel user sees
fc-list 2>/dev/null | grep -qi "Carlito" || need+=(fonts-crosextra-carlito)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v unar >/dev/null 2>&1 || need+=(unar)
command -v bsdtar >/dev/null 2>&1 || need+=(libarchive-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Missing system packages (install them as root): ${need[*]}" >&2
fi
