#!/bin/sh
# vendor.sh refreshes third_party/adaptivecards from the adaptivecards npm
# package pinned by package.json and package-lock.json beside this script.
# It is run by `go generate ./third_party/adaptivecards` and needs node and
# npm (the npm registry is reached only here, never at run time).
#
# The version must be the one tools/cardcheck validates cards with: the
# script refuses to run when the two pins differ.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dest="$root/third_party/adaptivecards"

pin() { node -p "require('$1').dependencies.adaptivecards"; }
want=$(pin "$here/package.json")
check=$(pin "$root/tools/cardcheck/package.json")
if [ "$want" != "$check" ]; then
	echo "vendor.sh: adaptivecards $want here but $check in tools/cardcheck/package.json: pin both to one version" >&2
	exit 1
fi

npm ci --prefix "$here" --no-audit --no-fund --ignore-scripts >/dev/null
pkg="$here/node_modules/adaptivecards"
got=$(node -p "require('$pkg/package.json').version")
if [ "$got" != "$want" ]; then
	echo "vendor.sh: npm installed adaptivecards $got, expected $want" >&2
	exit 1
fi

# The files are copied byte for byte; nothing is patched.
cp "$pkg/dist/adaptivecards.min.js" "$dest/adaptivecards.min.js"
cp "$pkg/dist/adaptivecards.min.js.LICENSE.txt" "$dest/adaptivecards.min.js.LICENSE.txt"
cp "$pkg/LICENSE" "$dest/LICENSE"
# The bundle includes Swiper (its carousel); keep Swiper's licence too.
cp "$here/node_modules/swiper/LICENSE" "$dest/LICENSE.swiper"

sum=$(sha256sum "$dest/adaptivecards.min.js" | cut -d' ' -f1)
cat >"$dest/VERSION" <<END
adaptivecards $got
sha256 $sum  adaptivecards.min.js
END
echo "vendored adaptivecards $got into third_party/adaptivecards (sha256 $sum)"
