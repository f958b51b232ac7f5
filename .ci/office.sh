#!/usr/bin/env bash
# Install what the document tests open the generated files with: LibreOffice
# (headless, no GUI) to convert .docx to PDF, poppler-utils for pdftoppm and
# pdftotext, and a CJK font so Chinese text lays out in the PDF.
# `office.sh install`: only install (.ci/provision.sh).
set -euo pipefail
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || [ ! -d /usr/share/fonts/opentype/noto ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-writer-nogui poppler-utils fonts-noto-cjk) >&2
fi
[ "${1:-}" = install ] && exit 0
soffice --version >&2
