// Starts a throwaway redis-server on 127.0.0.1 for tests (no persistence). Where the binary is absent the
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
  /** SIGKILL if running, then start an empty server on the same port. */
  restart(): Promise<void>
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

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'apisign-redis-'))
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
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
  }
}
