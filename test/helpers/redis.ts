// Starts a throwaway redis-server on 127.0.0.1 for tests (no persistence unless asked: `persistent: true`
// gives it a dir and dbfilename, so a test can SAVE a snapshot and restart from it). Where the binary is absent the
// Redis suites say so loudly and are skipped, except under CI=true, where absence is a failure.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function redisAvailable(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    if (process.env['CI'] === 'true') throw new Error('redis-server is not installed, and CI=true requires it (.ci/run installs it)')
    console.warn('\n*** redis-server not found on PATH: the Redis nonce-store tests are SKIPPED (apt-get install redis-server) ***\n')
    return false
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** SIGKILL the server (its data is lost: no persistence). */
  kill(): Promise<void>
  /**
   * SIGKILL if running, then start a server on the same port: empty, or, for a `persistent` server, loaded
   * from the last snapshot written by {@link RedisServer.save} (what survives a crash with Redis's default
   * RDB persistence: everything written after the snapshot is lost).
   */
  restart(): Promise<void>
  /** `SAVE`: write the RDB snapshot now (persistent servers only). */
  save(): Promise<void>
  /** The live `run_id` from `INFO server`. */
  runId(): Promise<string>
  /** Send one command (e.g. `REPLICAOF NO ONE`, a failover's promotion) and return the answer as text. */
  command(...args: string[]): Promise<string>
  /** Kill and remove its directory. */
  stop(): Promise<void>
}

async function waitForPort(port: number) {
  const { Socket } = await import('node:net')
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = new Socket()
      sock.once('error', () => resolve(false))
      sock.connect(port, '127.0.0.1', () => {
        sock.destroy()
        resolve(true)
      })
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server did not start on ${port}`)
}

/** One command over a short-lived connection, answered as text (enough for SAVE and INFO). */
async function command(port: number, ...args: string[]): Promise<string> {
  const { Redis } = await import('ioredis')
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 })
  try {
    await client.connect()
    return String(await client.call(args[0] as string, ...args.slice(1)))
  } finally {
    client.disconnect()
  }
}

export async function startRedis(options: { persistent?: boolean; replicaOf?: number } = {}): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'apisign-redis-'))
  let child: ChildProcess | undefined
  // Persistent: snapshots only when asked (SAVE), loaded at start-up from dir/dbfilename, as a default
  // Redis does; no AOF, so the snapshot is exactly what a restart brings back.
  const persistence = options.persistent === true ? ['--save', '', '--appendonly', 'no', '--dbfilename', 'dump.rdb'] : ['--save', '', '--appendonly', 'no']
  // A replica of another test server (what a failover promotes).
  if (options.replicaOf !== undefined) persistence.push('--replicaof', '127.0.0.1', String(options.replicaOf))
  const start = async () => {
    // No 5 s wait before a replica's first sync (Redis 7's diskless default).
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--repl-diskless-sync-delay', '0', ...persistence, '--dir', dir], { stdio: 'ignore' })
    await waitForPort(port)
  }
  const kill = async () => {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill('SIGKILL')
    })
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async stop() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
    async restart() {
      await kill()
      await start()
    },
    async save() {
      if (options.persistent !== true) throw new Error('save() needs startRedis({ persistent: true })')
      await command(port, 'SAVE')
    },
    command: (...args: string[]) => command(port, ...args),
    async runId() {
      const info = await command(port, 'INFO', 'server')
      const id = /run_id:([0-9a-f]+)/.exec(info)?.[1]
      if (id === undefined) throw new Error('INFO server has no run_id')
      return id
    },
  }
}
