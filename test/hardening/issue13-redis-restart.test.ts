// Issue 13 item 2: the Redis nonce store detects any Redis restart, not only an empty one. A real
// redis-server with RDB persistence: snapshot, accept a request, SIGKILL, restart from the snapshot (the
// epoch key comes back, the nonce does not), and the replay must be refused.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SignRequestOptions } from '../../src/oauth1/index.js'
import { createOAuth1Verifier, createRedisNonceStore } from '../../src/verify/index.js'
import { receivedFactory } from '../helpers/oauth1-requests.js'
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis.js'
import { readShared } from '../helpers/shared.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const NOW = 1_800_000_000_000
const base: SignRequestOptions = { method: 'POST', url: 'https://api.example.com/v1/payments', body: '{"a":1}', consumerKey: 'ck!known', key, now: () => NOW }
const received = receivedFactory(base)

describe.skipIf(!redisAvailable())('issue 13 item 2: the Redis nonce store detects any Redis restart, not only an empty one', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis({ persistent: true })
  })
  afterAll(async () => redis.stop())

  it('a restart from an RDB snapshot taken before the accepted request: the replay is refused', async () => {
    let t = NOW
    const store = createRedisNonceStore({ redis: redis.url, trustEmptyOnStart: true, now: () => t, restartQuarantineMs: 600_000 })
    const verifier = createOAuth1Verifier({ consumers: { 'ck!known': { key: createPublicKey(key) } }, nonceStore: store, now: () => t })
    try {
      // Normal operation: the epoch key is written, requests are accepted.
      expect((await verifier.verify(received({ nonce: 'warm' })))).toMatchObject({ ok: true })
      const before = await redis.runId()
      await redis.save() // the snapshot holds the epoch key, not what follows
      t += 1000
      const request = received({ nonce: 'accepted-after-snapshot', now: () => t })
      expect(await verifier.verify(request)).toMatchObject({ ok: true })
      expect(await verifier.verify(request)).toMatchObject({ ok: false, code: 'ERR_OAUTH1_NONCE_REPLAY' })

      await redis.restart() // SIGKILL, then start from dump.rdb: epoch key back, nonce gone
      expect(await redis.runId()).not.toBe(before)
      // The store reconnects; whatever it answers while doing so, the replay is never accepted.
      for (let i = 0; i < 30; i++) {
        const replay = await verifier.verify(request)
        expect(replay.ok).toBe(false)
        if (replay.ok === false && replay.code === 'ERR_NONCE_STORE_UNAVAILABLE' && i > 0) break
        await new Promise((r) => setTimeout(r, 100))
      }
      // Redis is back and answering, the epoch key is there: still refused, for the whole quarantine.
      t += 299_000
      const replay = await verifier.verify(request)
      expect(replay).toMatchObject({ ok: false, code: 'ERR_NONCE_STORE_UNAVAILABLE' })
      expect(replay.ok === false && replay.message).toMatch(/restarted, failed over or lost its data/)
      // After one nonce lifetime, fresh requests are accepted again; the old one is stale by then.
      t += 700_000
      expect(await verifier.verify(received({ nonce: 'after-quarantine', now: () => t }))).toMatchObject({ ok: true })
      expect(await verifier.verify(request)).toMatchObject({ ok: false, code: 'ERR_OAUTH1_TIMESTAMP_STALE' })
    } finally {
      await store.close?.()
    }
  })

  it('a failover to a replica that lacks the latest writes: the replay is refused on the promoted replica', async () => {
    const replica = await startRedis({ replicaOf: redis.port })
    const t = NOW + 5_000_000
    const onMaster = createRedisNonceStore({ redis: redis.url, prefix: 'fo:', trustEmptyOnStart: true, now: () => t })
    const consumers = { 'ck!known': { key: createPublicKey(key) } }
    try {
      const master = createOAuth1Verifier({ consumers, nonceStore: onMaster, now: () => t })
      expect(await master.verify(received({ nonce: 'replicated', now: () => t }))).toMatchObject({ ok: true })
      // Wait until the replica holds the epoch key (replication caught up)...
      for (let i = 0; i < 100 && (await replica.command('EXISTS', 'fo:__epoch')) !== '1'; i++) await new Promise((r) => setTimeout(r, 50))
      expect(await replica.command('EXISTS', 'fo:__epoch')).toBe('1')
      // ...then cut the link, so the next write never reaches it: the replica lacks it, as after a crash.
      await replica.command('REPLICAOF', 'NO', 'ONE')
      const request = received({ nonce: 'not-replicated', now: () => t })
      expect(await master.verify(request)).toMatchObject({ ok: true })
      await redis.kill()
      // The failover: verifiers now talk to the promoted replica, which has the epoch key but not the nonce.
      const onReplica = createRedisNonceStore({ redis: replica.url, prefix: 'fo:', now: () => t })
      try {
        const promoted = createOAuth1Verifier({ consumers, nonceStore: onReplica, now: () => t })
        expect(await promoted.verify(request)).toMatchObject({ ok: false, code: 'ERR_NONCE_STORE_UNAVAILABLE' })
        expect(await promoted.verify(request)).toMatchObject({ ok: false, code: 'ERR_NONCE_STORE_UNAVAILABLE' })
      } finally {
        await onReplica.close?.()
      }
    } finally {
      await onMaster.close?.()
      await replica.stop()
      await redis.restart()
    }
  })

  it('an epoch key written by another Redis process (a promoted replica has it replicated) starts a quarantine', async () => {
    const { Redis } = await import('ioredis')
    const admin = new Redis(redis.url)
    try {
      const t = NOW + 10_000_000
      const store = createRedisNonceStore({ redis: redis.url, prefix: 'failover:', now: () => t })
      // What a replica holds after replicating from its old master: an epoch written under another run_id,
      // with its quarantine long over.
      await admin.set('failover:__epoch', `${'ab'.repeat(20)} ${t - 10_000_000}`)
      await expect(store.checkAndRecord('n1', 1000)).rejects.toMatchObject({ code: 'ERR_NONCE_STORE_UNAVAILABLE' })
      // The store adopted the live run_id; the quarantine runs from now.
      expect(String(await admin.get('failover:__epoch'))).toMatch(new RegExp(`^${await redis.runId()} ${t}$`))
      await store.close?.()
    } finally {
      admin.disconnect()
    }
  })
})
