#!/bin/sh
# Refresh the vendored uPlot (the chart library of `lpose report`'s page) from
# npm: `tools/vendor_uplot.sh [VERSION]` (default: the version in
# lua/lpose/diagnostics/assets/uplot.VERSION). Only the minified browser build,
# its CSS and the licence are kept; nothing from node_modules is committed.
# Why uPlot: docs/design/decisions.md ("The report page's charts are uPlot").
set -e
dest=$(cd "$(dirname "$0")/.." && pwd)/lua/lpose/diagnostics/assets
version=${1:-$(cat "$dest/uplot.VERSION")}
work=$(mktemp -d /tmp/vendor_uplot.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "uplot@$version" >/dev/null
tar -xzf uplot-"$version".tgz
install -m 644 package/dist/uPlot.iife.min.js "$dest/uPlot.iife.min.js"
install -m 644 package/dist/uPlot.min.css "$dest/uPlot.min.css"
install -m 644 package/LICENSE "$dest/uPlot.LICENSE"
echo "$version" > "$dest/uplot.VERSION"
echo "vendored uPlot $version into $dest"
