// validate.mjs checks Teams app manifests offline with Microsoft's
// official @microsoft/app-manifest package (the version pinned in
// package.json and package-lock.json):
//
//   node tools/manifestcheck/validate.mjs MANIFEST.json...
//   node tools/manifestcheck/validate.mjs --newest
//
// For each file it
//   - reads manifestVersion and loads that version's schema from the
//     package's own json-schemas folder, failing if the package does not
//     bundle it or if "$schema" is not that schema's published URL;
//   - runs AppManifestUtils.validateAgainstSchema(manifest, schema) with
//     the bundled schema passed in, so nothing is ever fetched;
//   - runs TeamsManifestConverter.jsonToManifest, the package's run-time
//     type check of the version's fields.
// It prints each problem and exits 1 if any file has one, 2 on usage
// errors. --newest prints the newest numbered Teams schema version the
// package bundles (devPreview is not a release).
import { createRequire } from "node:module";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { checkFiles } from "../checkfiles.mjs";

const require = createRequire(import.meta.url);
const { AppManifestUtils, TeamsManifestConverter } = require("@microsoft/app-manifest");
const schemaRoot = path.join(
  path.dirname(require.resolve("@microsoft/app-manifest/package.json")),
  "build", "json-schemas", "teams",
);

// bundledVersions lists the numbered schema versions, oldest first.
function bundledVersions() {
  return readdirSync(schemaRoot)
    .filter((d) => /^v\d+\.\d+$/.test(d))
    .map((d) => d.slice(1))
    .sort((a, b) => {
      const [am, an] = a.split(".").map(Number);
      const [bm, bn] = b.split(".").map(Number);
      return am - bm || an - bn;
    });
}

// check returns the problems of one file as strings.
async function check(file) {
  let text, manifest;
  try {
    text = readFileSync(file, "utf8");
    manifest = JSON.parse(text);
  } catch (err) {
    return [`read: ${err.message}`];
  }
  const version = manifest.manifestVersion;
  if (typeof version !== "string" || !/^\d+\.\d+$/.test(version)) {
    return [`manifestVersion ${JSON.stringify(version)} is not a released schema version`];
  }
  const schemaFile = path.join(schemaRoot, `v${version}`, "MicrosoftTeams.schema.json");
  if (!existsSync(schemaFile)) {
    return [`the package bundles no schema for manifestVersion ${version}`];
  }
  const published = `https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`;
  const problems = [];
  if (manifest.$schema !== published) {
    problems.push(`$schema is ${JSON.stringify(manifest.$schema)}, want ${published}`);
  }
  try {
    const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
    for (const failure of await AppManifestUtils.validateAgainstSchema(manifest, schema)) {
      problems.push(`schema: ${failure}`);
    }
  } catch (err) {
    problems.push(`schema validation threw: ${err && err.message ? err.message : err}`);
  }
  try {
    TeamsManifestConverter.jsonToManifest(text);
  } catch (err) {
    // The converter quotes the whole offending value: keep the first line short.
    const message = String(err && err.message ? err.message : err);
    problems.push(`type check: ${message.length > 200 ? message.slice(0, 200) + "..." : message}`);
  }
  return problems;
}

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === "--newest") {
  console.log(bundledVersions().at(-1));
  process.exit(0);
}
if (args.some((a) => a.startsWith("--"))) {
  console.error("usage: node validate.mjs MANIFEST.json... | --newest");
  process.exit(2);
}
await checkFiles(args, check, "usage: node validate.mjs MANIFEST.json... | --newest");
