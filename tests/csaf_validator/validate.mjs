// Runs the OASIS CSAF 2.0 reference validator (@secvisogram/csaf-validator-lib): the strict
// JSON schema, every mandatory test (6.1) and every optional test (6.2) on CSAF documents.
// Informative tests (6.3) are not run: some of them go to the network.
//
//   node validate.mjs a.json b.json   prints {"a.json": {"isValid", "problems"}, ...}
//   node validate.mjs --serve         reads one file path a line on stdin and answers each with
//                                     one line {"isValid", "problems"} (loading the library
//                                     takes seconds, so the test suite starts it once)
//
// A problem is {"test", "kind" ("error" | "warning"), "message", "instancePath"}.
import { readFile, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import validate from '@secvisogram/csaf-validator-lib/validate.js'
import * as extended from '@secvisogram/csaf-validator-lib/extended.js'

const MAX_BYTES = 32 << 20
const tests = Object.values(extended)

async function check(path) {
  if ((await stat(path)).size > MAX_BYTES) throw new Error(`${path} is over ${MAX_BYTES} bytes`)
  const outcome = await validate(tests, JSON.parse(await readFile(path, 'utf8')))
  const problems = []
  for (const test of outcome.tests) {
    for (const [kind, found] of [['error', test.errors], ['warning', test.warnings]]) {
      for (const { message, instancePath } of found) {
        problems.push({ test: test.name, kind, message, instancePath })
      }
    }
  }
  return { isValid: outcome.isValid, problems }
}

if (process.argv[2] === '--serve') {
  for await (const line of createInterface({ input: process.stdin })) {
    let answer
    try {
      answer = await check(line)
    } catch (error) {
      answer = { error: String(error) }
    }
    process.stdout.write(JSON.stringify(answer) + '\n')
  }
} else {
  const results = {}
  for (const path of process.argv.slice(2)) results[path] = await check(path)
  process.stdout.write(JSON.stringify(results, null, 2) + '\n')
}
