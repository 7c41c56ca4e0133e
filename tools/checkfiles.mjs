// checkfiles.mjs is the command line the validators under tools/ share:
// check each file named, print "ok" or "FAIL" and the file's problems, a
// count, and exit 0 when every file passed, 1 when one failed, 2 when no
// file was named.
//
// check(file) returns the file's problems as strings (or a promise of them).
export async function checkFiles(files, check, usage) {
  if (files.length === 0) {
    console.error(usage);
    process.exit(2);
  }
  let failed = 0;
  for (const file of files) {
    const problems = await check(file);
    if (problems.length === 0) {
      console.log(`ok   ${file}`);
      continue;
    }
    failed++;
    console.log(`FAIL ${file}`);
    for (const p of problems) {
      console.log(`     ${p}`);
    }
  }
  console.log(`${files.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
