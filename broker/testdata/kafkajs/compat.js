'use strict'

// kafkajs compatibility check, run by broker/kafkajs_test.go against an
// in-process Tributary broker. kafkajs never uses flexible versions, so this
// exercises the broker's older, non-flexible request versions end to end.
//
// Environment:
//   BROKER  host:port to bootstrap from (required)
//   TOPIC   prefix for the topics this script creates (required)
//   GROUP   consumer group for step 3 (default: <TOPIC>-group)
//   KAFKAJS_LOG_LEVEL  kafkajs's own override (DEBUG for wire-level detail)
//
// Prints one JSON line on stdout and exits 0, or prints the error and exits 1.
// kafkajs logs (WARN and ERROR unless overridden) go to stderr.

const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs')

const broker = process.env.BROKER
const prefix = process.env.TOPIC
const groupId = process.env.GROUP || `${prefix}-group`
if (!broker || !prefix) {
  console.error('compat.js: BROKER and TOPIC must be set')
  process.exit(1)
}

const mainTopic = `${prefix}-main`
const txnTopic = `${prefix}-txn`
const batchSize = 100 // per produce batch in step 2
const txnSize = 10 // per transaction, and for the idempotent producer

const stderrLogger = () => ({ namespace, label, log }) => {
  const { message, timestamp, logger, ...extra } = log
  process.stderr.write(
    `${timestamp} kafkajs ${label} [${namespace}] ${message} ${JSON.stringify(extra)}\n`
  )
}

const kafka = new Kafka({
  clientId: 'tributary-kafkajs-compat',
  brokers: [broker],
  logLevel: logLevel.WARN,
  logCreator: stderrLogger,
  connectionTimeout: 3000,
  requestTimeout: 10000,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
})

function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// (1) Topics, with the kafkajs admin.
async function createTopics(admin) {
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: mainTopic, numPartitions: 3, replicationFactor: 1 },
      { topic: txnTopic, numPartitions: 3, replicationFactor: 1 },
    ],
  })
  if (!created) throw new Error(`createTopics: ${mainTopic} or ${txnTopic} already exists`)
  const meta = await admin.fetchTopicMetadata({ topics: [mainTopic, txnTopic] })
  for (const t of meta.topics) {
    if (t.partitions.length !== 3) {
      throw new Error(`topic ${t.name} has ${t.partitions.length} partitions, want 3`)
    }
  }
}

// (2) 100 keyed messages uncompressed, 100 gzip, acks -1.
async function produceMain() {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  let produced = 0
  try {
    for (const [label, compression] of [
      ['plain', CompressionTypes.None],
      ['gzip', CompressionTypes.GZIP],
    ]) {
      const messages = []
      for (let i = 0; i < batchSize; i++) {
        messages.push({ key: `${label}-k${i}`, value: `${label}-v${i}` })
      }
      const res = await producer.send({ topic: mainTopic, acks: -1, compression, messages })
      for (const r of res) {
        if (r.errorCode !== 0) throw new Error(`produce ${label}: ${JSON.stringify(r)}`)
      }
      produced += messages.length
    }
  } finally {
    await producer.disconnect()
  }
  return produced
}

// committedSum is the group's committed offsets on topic, summed over
// partitions (an uncommitted partition counts 0).
async function committedSum(admin, topic) {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] })
  let sum = 0
  for (const t of res) {
    for (const p of t.partitions) {
      const off = Number(p.offset)
      if (off > 0) sum += off
    }
  }
  return sum
}

// (3) A consumer group reads the 200 messages from the beginning and commits.
async function consumeMain(admin, want) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, heartbeatInterval: 1000 })
  const seen = new Set()
  let duplicates = 0
  let bad = null
  let resolveAll
  const all = new Promise(resolve => (resolveAll = resolve))
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [mainTopic], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key.toString()
        const value = message.value.toString()
        const m = /^(plain|gzip)-k(\d+)$/.exec(key)
        if (!m || value !== `${m[1]}-v${m[2]}`) {
          bad = bad || `unexpected message ${key}=${value} at ${partition}/${message.offset}`
        }
        if (seen.has(key)) duplicates++
        seen.add(key)
        if (seen.size >= want) resolveAll()
      },
    })
    await withTimeout(all, 30000, `group consumer saw ${seen.size} of ${want} messages`)
    // The runner commits after each batch; wait until the broker has it all.
    const deadline = Date.now() + 15000
    let sum = 0
    while ((sum = await committedSum(admin, mainTopic)) < want) {
      if (Date.now() > deadline) {
        throw new Error(`group ${groupId} committed ${sum} of ${want} offsets`)
      }
      await sleep(100)
    }
    if (sum !== want) throw new Error(`group ${groupId} committed ${sum} offsets, want ${want}`)
  } finally {
    await consumer.disconnect()
  }
  if (bad) throw new Error(bad)
  if (duplicates) throw new Error(`${duplicates} duplicate messages`)
  return seen.size
}

const txnKeys = Array.from({ length: txnSize }, (_, i) => `t-k${i}`)

// (4) An idempotent producer and a transactional one: a committed
// transaction, an aborted one, then idempotent messages on the same keys
// (so the same partitions) after both, which a read_committed consumer must
// reach only by skipping the aborted records.
async function produceTxn() {
  // Idempotent producers warn that kafkajs's retry limit "may invalidate EoS
  // guarantees"; unlimited retries would hide a broker error until timeout.
  const txProducer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    transactionalId: `${prefix}-txn-id`,
    idempotent: true,
    maxInFlightRequests: 1,
  })
  await txProducer.connect()
  try {
    for (const outcome of ['committed', 'aborted']) {
      const txn = await txProducer.transaction()
      try {
        await txn.send({
          topic: txnTopic,
          acks: -1,
          messages: txnKeys.map((key, i) => ({ key, value: `${outcome}-${i}` })),
        })
      } catch (e) {
        await txn.abort()
        throw e
      }
      if (outcome === 'committed') await txn.commit()
      else await txn.abort()
    }
  } finally {
    await txProducer.disconnect()
  }

  const idem = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  })
  await idem.connect()
  try {
    // Two sends so the second carries a non-zero base sequence.
    for (const half of [0, 1]) {
      const keys = txnKeys.filter((_, i) => i % 2 === half)
      await idem.send({
        topic: txnTopic,
        acks: -1,
        messages: keys.map(key => ({ key, value: `idempotent-${key}` })),
      })
    }
  } finally {
    await idem.disconnect()
  }
}

async function consumeTxn() {
  const consumer = kafka.consumer({
    groupId: `${groupId}-read-committed`,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    heartbeatInterval: 1000,
  })
  const counts = { committed: 0, aborted: 0, idempotent: 0, other: 0 }
  let resolveDone
  const done = new Promise(resolve => (resolveDone = resolve))
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [txnTopic], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const kind = message.value.toString().split('-')[0]
        counts[kind in counts ? kind : 'other']++
        if (counts.committed >= txnSize && counts.idempotent >= txnSize) resolveDone()
      },
    })
    await withTimeout(
      done,
      30000,
      `read_committed consumer saw ${JSON.stringify(counts)}, want ${txnSize} committed and ${txnSize} idempotent`
    )
  } finally {
    await consumer.disconnect()
  }
  if (counts.other) throw new Error(`unexpected messages: ${JSON.stringify(counts)}`)
  return counts
}

async function main() {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await createTopics(admin)
    const produced = await produceMain()
    const ends = await admin.fetchTopicOffsets(mainTopic)
    const end = ends.reduce((sum, p) => sum + Number(p.high), 0)
    if (end !== produced) throw new Error(`${mainTopic} high watermarks sum to ${end}, want ${produced}`)
    const consumed = await consumeMain(admin, produced)
    await produceTxn()
    const counts = await consumeTxn()
    console.log(
      JSON.stringify({
        produced,
        consumed,
        committedSeen: counts.committed,
        abortedSeen: counts.aborted,
        idempotentSeen: counts.idempotent,
      })
    )
  } finally {
    await admin.disconnect()
  }
}

main().then(
  () => process.exit(0),
  err => {
    console.error(`compat.js: ${err && err.stack ? err.stack : err}`)
    process.exit(1)
  }
)
