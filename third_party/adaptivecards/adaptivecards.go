// Package adaptivecards embeds Microsoft's Adaptive Cards JavaScript
// renderer (the browser bundle of the npm package adaptivecards), so the
// sandbox page renders the bot's cards with the official library and
// without any network access at run time.
//
// The files beside this one are third-party code, copied unchanged from the
// npm package by `go generate` (tools/vendor-adaptivecards/vendor.sh); see
// README.md. Do not edit them by hand. The package imports only the
// standard library.
package adaptivecards

//go:generate sh ../../tools/vendor-adaptivecards/vendor.sh

import (
	"embed"
	"io/fs"
)

// Version is the vendored adaptivecards release. It must match the pin in
// tools/cardcheck/package.json and tools/vendor-adaptivecards/package.json;
// a test checks all three and the bundle's checksum.
const Version = "3.0.6"

// ScriptName is the file name of the renderer bundle in FS.
const ScriptName = "adaptivecards.min.js"

//go:embed adaptivecards.min.js adaptivecards.min.js.LICENSE.txt LICENSE LICENSE.swiper
var files embed.FS

// FS returns the renderer bundle (ScriptName) and its licence files.
func FS() fs.FS { return files }
