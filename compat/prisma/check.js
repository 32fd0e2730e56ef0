#!/usr/bin/env node
// Runs Prisma's checkpoint-client (the npm package, unmodified) the way the
// Prisma CLI does, against whatever PRISMA_TELEMETRY_ENDPOINT names, and
// waits for the detached child the client forks to write its cache file.
//
// Usage: node check.js <version> [<product>]
// Needs XDG_CACHE_HOME (so a test never touches the real ~/.cache) and
// PRISMA_TELEMETRY_ENDPOINT. Prints one JSON document on stdout:
//   { first: {status}, cache_file, cache: <cache file>, signature,
//     second: {status, data} }
// `second` is a second check() once the cache is fresh: the Prisma CLI prints
// its update notice from that `data`, which comes from the cache file.
'use strict'

const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const checkpoint = require('checkpoint-client')

const WAIT_MS = Number(process.env.SONDE_COMPAT_WAIT_MS || 60000)

// The Prisma CLI's getHash: first 8 hex characters of SHA-256.
function hash8(input) {
  return crypto.createHash('sha256').update(input).digest('hex').substring(0, 8)
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function main() {
  const version = process.argv[2]
  const product = process.argv[3] || 'prisma'
  if (!version) throw new Error('usage: node check.js <version> [<product>]')
  if (!process.env.XDG_CACHE_HOME) throw new Error('set XDG_CACHE_HOME to an isolated directory')
  if (!process.env.PRISMA_TELEMETRY_ENDPOINT) throw new Error('set PRISMA_TELEMETRY_ENDPOINT')

  // What the Prisma CLI computes before calling check(): hashes of its own
  // path and of the schema's path, facts read from the schema, the command
  // with sensitive option values redacted.
  const cliPath = path.join(process.env.XDG_CACHE_HOME, 'project', 'node_modules', 'prisma', 'build', 'index.js')
  const schemaPath = path.join(process.env.XDG_CACHE_HOME, 'project', 'prisma', 'schema.prisma')
  const cliPathHash = hash8(cliPath)
  const input = {
    product,
    version,
    cli_path_hash: cliPathHash,
    project_hash: hash8(schemaPath),
    schema_providers: ['postgresql'],
    schema_preview_features: ['fullTextSearch', 'metrics'],
    schema_generators_providers: ['prisma-client-js'],
    cli_install_type: 'local',
    command: 'migrate dev --name [redacted]',
    information: process.env.PRISMA_TELEMETRY_INFORMATION,
    cli_path: cliPath,
  }

  // The client's cache file: env-paths('checkpoint').cache + `${product}-${cli_path_hash}`.
  const cacheDir = path.join(process.env.XDG_CACHE_HOME, 'checkpoint-nodejs')
  const cacheFile = path.join(cacheDir, `${product}-${cliPathHash}`)

  const first = await checkpoint.check(input)
  if (first.status !== 'waiting') {
    throw new Error(`first check() on an empty cache should fork a child and wait, got status ${first.status}`)
  }

  // The child is detached (stdio ignored); it writes the cache file with
  // fs.writeFile once the answer arrived, so poll until it parses and holds
  // a non-zero cached_at.
  const deadline = Date.now() + WAIT_MS
  let cache
  for (;;) {
    try {
      const parsed = JSON.parse(fs.readFileSync(cacheFile, 'utf8'))
      if (parsed.cached_at > 0) {
        cache = parsed
        break
      }
    } catch (_) {
      // not written yet, or caught mid-write
    }
    if (Date.now() > deadline) {
      throw new Error(`checkpoint-client did not write ${cacheFile} within ${WAIT_MS} ms (collector unreachable or answered non-2xx?)`)
    }
    await sleep(25)
  }

  const signature = JSON.parse(fs.readFileSync(path.join(cacheDir, 'signature'), 'utf8')).signature

  // The next CLI run: fresh cache, so check() returns the cached answer
  // (status ok, reminder recorded) while a child pings in the background.
  const next = await checkpoint.check(input)
  // 'waiting' carries the ChildProcess, which is not data.
  const second = next.status === 'waiting' ? { status: next.status } : next

  process.stdout.write(
    JSON.stringify(
      { first: { status: first.status }, cache_file: cacheFile, cache, signature, second, platform: os.platform() },
      null,
      2,
    ) + '\n',
  )
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`compat/prisma/check.js: ${err && err.stack ? err.stack : err}\n`)
    process.exit(1)
  },
)
