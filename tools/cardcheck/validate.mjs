// validate.mjs checks Adaptive Card JSON files with Microsoft's official
// adaptivecards library (the version pinned in package.json):
//
//   node tools/cardcheck/validate.mjs FILE.json...
//
// For each file it parses the card with AdaptiveCard.parse under a
// SerializationContext targeting schema 1.5 and collects:
//   - every event the context logged while parsing (unknown element or
//     action types, invalid property values, properties newer than 1.5...),
//   - every event of card.validateProperties() (missing required
//     properties, duplicate IDs, unsupported card version...),
//   - every property of the file that the library's own toJSON does not
//     write back (a property the library does not know, such as a typo,
//     or a value it dropped). Card-level "$schema" and Teams' "msteams"
//     extension are expected and exempt.
// It prints each event and exits 1 if any file has one, 2 on usage errors.
//
// No DOM is needed or provided: parsing and validation never touch
// `document` (only rendering does). The package's "main" entry is an ES
// module build with extensionless imports that Node cannot load, so the
// script loads the package's UMD bundle (dist/adaptivecards.js), the same
// build browsers load.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { checkFiles } from "../checkfiles.mjs";

const require = createRequire(import.meta.url);
const AC = require("adaptivecards/dist/adaptivecards.js");

const TARGET = AC.Versions.v1_5;
const EXEMPT_TOP_LEVEL = new Set(["$schema", "msteams"]);

function eventName(code) {
  return AC.ValidationEvent[code] ?? String(code);
}

function phaseName(code) {
  return AC.ValidationPhase[code] ?? String(code);
}

// unknownProperties lists, as JSON paths, the properties of src that are
// missing from out (the library's serialization of what it parsed).
function unknownProperties(src, out, path, found) {
  if (Array.isArray(src)) {
    if (!Array.isArray(out)) {
      found.push(path);
      return;
    }
    src.forEach((v, i) => unknownProperties(v, out[i], `${path}[${i}]`, found));
    return;
  }
  if (src === null || typeof src !== "object") {
    return;
  }
  if (out === null || typeof out !== "object" || Array.isArray(out)) {
    found.push(path);
    return;
  }
  for (const key of Object.keys(src)) {
    if (path === "$" && EXEMPT_TOP_LEVEL.has(key)) {
      continue;
    }
    if (!(key in out)) {
      found.push(`${path}.${key}`);
      continue;
    }
    unknownProperties(src[key], out[key], `${path}.${key}`, found);
  }
}

// check returns the problems of one file as strings.
function check(file) {
  let json;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    return [`read: ${err.message}`];
  }
  const problems = [];
  try {
    const card = new AC.AdaptiveCard();
    const context = new AC.SerializationContext(TARGET);
    card.parse(json, context);
    for (let i = 0; i < context.eventCount; i++) {
      const e = context.getEventAt(i);
      problems.push(`${phaseName(e.phase)} ${eventName(e.event)}: ${e.message}`);
    }
    for (const e of card.validateProperties().validationEvents) {
      problems.push(`${phaseName(e.phase)} ${eventName(e.event)}: ${e.message}`);
    }
    const out = card.toJSON(new AC.SerializationContext(TARGET));
    const unknown = [];
    unknownProperties(json, out, "$", unknown);
    for (const p of unknown) {
      problems.push(`RoundTrip UnknownProperty: ${p} is not a property the library knows (or its value was dropped)`);
    }
  } catch (err) {
    problems.push(`exception: ${err && err.stack ? err.stack : err}`);
  }
  return problems;
}

await checkFiles(process.argv.slice(2), check, "usage: node validate.mjs CARD.json...");
