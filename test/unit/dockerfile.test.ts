import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const ROOT = join(import.meta.dirname, '..', '..')
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

interface Instruction {
  keyword: string
  args: string
}

interface Stage {
  image: string
  name: string | undefined
  instructions: Instruction[]
}

/** Dockerfile text → stages of instructions (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = []
  let pending = ''
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line.startsWith('#') || (line === '' && pending === '')) continue
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `
      continue
    }
    logical.push((pending + line).trim())
    pending = ''
  }
  if (pending !== '') logical.push(pending.trim())

  const stages: Stage[] = []
  for (const line of logical.filter(Boolean)) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    const instruction = { keyword: keyword.toUpperCase(), args }
    if (instruction.keyword === 'FROM') {
      const [, image = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? []
      stages.push({ image, name: name?.toLowerCase(), instructions: [] })
    } else {
      const stage = stages.at(-1)
      if (!stage) throw new Error(`${instruction.keyword} before the first FROM`)
      stage.instructions.push(instruction)
    }
  }
  return stages
}

const argsOf = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args)

/** Variables set by ENV in a stage, in both `ENV A=1 B=2` and legacy `ENV A 1` forms. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const args of argsOf(stage, 'ENV')) {
    if (!/^\w+=/.test(args)) {
      const [name = '', ...value] = args.split(/\s+/)
      env[name] = value.join(' ')
      continue
    }
    for (const match of args.matchAll(/(\w+)=("[^"]*"|'[^']*'|\S+)/g)) {
      env[match[1] as string] = (match[2] as string).replace(/^(["'])(.*)\1$/, '$2')
    }
  }
  return env
}

/** CMD/ENTRYPOINT/HEALTHCHECK CMD argument: the exec (JSON) form as an array, else the shell words. */
function commandWords(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/)
}

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'))
  const build = stages[0] as Stage
  const final = stages.at(-1) as Stage

  it('has a build stage and a separate runtime stage, both on Node 24 bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(build.name).toBeDefined()
    for (const stage of stages) expect(stage.image).toBe('node:24-bookworm-slim')
  })

  it('installs with the lockfile and dev dependencies, builds, then keeps production dependencies only', () => {
    const runs = argsOf(build, 'RUN').join('\n')
    expect(runs).toMatch(/\bnpm ci\b(?![^\n]*--omit=dev)/)
    expect(runs).toMatch(/\bnpm run build\b/)
    expect(runs).toMatch(/\bnpm (ci|prune)\b[^\n]*--omit=dev/)
    expect(argsOf(build, 'COPY').join('\n')).toMatch(/package-lock\.json/)
  })

  it('copies into the runtime stage only from the build stage: dist, node_modules, package.json', () => {
    expect(argsOf(final, 'ADD')).toEqual([])
    const copies = argsOf(final, 'COPY')
    expect(copies.length).toBeGreaterThan(0)
    for (const copy of copies) expect(copy).toMatch(new RegExp(`--from=${build.name}\\b`, 'i'))
    const sources = copies.map((copy) => copy.split(/\s+/).filter((word) => !word.startsWith('--'))[0])
    expect(sources.sort()).toEqual(['/app/dist', '/app/node_modules', '/app/package.json'])
  })

  it('runs in production mode on 0.0.0.0:8000 as a user that is not root', () => {
    const env = envOf(final)
    expect(env.NODE_ENV).toBe('production')
    expect(env.HOST).toBe('0.0.0.0')
    expect(env.PORT).toBe('8000')
    expect(argsOf(final, 'EXPOSE').join(' ').split(/\s+/)).toContain('8000')
    const user = argsOf(final, 'USER').at(-1)
    expect(user).toBeDefined()
    expect(user?.split(':')[0]).not.toMatch(/^(root|0)$/)
  })

  it('checks liveness with a GET of /health/live', () => {
    const [healthcheck] = argsOf(final, 'HEALTHCHECK')
    expect(healthcheck).toBeDefined()
    const command = (healthcheck as string).replace(/^(--\S+\s+)*CMD\s+/, '')
    expect(command).not.toBe(healthcheck)
    expect(commandWords(command).join(' ')).toMatch(/\/health\/live\b/)
  })

  it('starts the service with node dist/cli/main.js serve', () => {
    const cmd = argsOf(final, 'CMD').at(-1)
    expect(cmd).toBeDefined()
    expect(cmd?.startsWith('[')).toBe(true) // exec form: node is PID 1 and receives SIGTERM
    const words = commandWords(cmd as string)
    expect(words[0]).toBe('node')
    // A preload such as `--import ./dist/otel.js` may stand before the entry point.
    expect(words.slice(-2)).toEqual(['dist/cli/main.js', 'serve'])
    expect(argsOf(final, 'ENTRYPOINT')).toEqual([])
  })

  it('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim())
    for (const entry of ['node_modules', 'dist', 'data', '.git', 'coverage', 'bench/results', '.env'])
      expect(ignored).toContain(entry)
  })
})

interface ComposeService {
  image?: string
  build?: unknown
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] | string }
  networks?: Record<string, { ipv4_address?: string } | null> | string[]
}

describe('compose.yaml', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> }
  const services = Object.entries(compose.services)
  const byImage = (pattern: RegExp) => services.filter(([, service]) => pattern.test(service.image ?? ''))
  const replicas = services.filter(([, service]) => service.build !== undefined)

  it('runs PostgreSQL 16, Redis 7 and a mail catcher, each with a health check where it gates start-up', () => {
    const [postgres] = byImage(/^postgres:16(\b|-)/)
    const [redis] = byImage(/^redis:7(\b|-)/)
    expect(postgres?.[1].healthcheck).toBeDefined()
    expect(redis?.[1].healthcheck).toBeDefined()
    expect(byImage(/mailpit|mailhog/)).toHaveLength(1)
  })

  it('runs two Kitsune replicas built from the Dockerfile, sharing one SECRET_KEY, PostgreSQL and Redis', () => {
    expect(replicas).toHaveLength(2)
    const envs = replicas.map(([, service]) => service.environment ?? {})
    const [first, second] = envs as [Record<string, string>, Record<string, string>]
    expect(first).toEqual(second)
    expect(first.NODE_ENV).toBe('production')
    expect(first.SECRET_KEY).toMatch(/^\$\{SECRET_KEY\b/)
    expect(first.DATABASE_URL).toMatch(/^postgres(ql)?:\/\/.*@postgres:5432\//)
    expect(first.REDIS_URL).toMatch(/^redis:\/\/redis:6379\b/)
    expect(first.SMTP_URL).toBe('smtp://mailpit:1025')
    expect(first.PUBLIC_URL).toBeTruthy()
    for (const [, service] of replicas) {
      expect(service.healthcheck).toBeDefined()
      expect(service.depends_on?.postgres?.condition).toBe('service_healthy')
      expect(service.depends_on?.redis?.condition).toBe('service_healthy')
    }
  })

  it('puts a proxy in front of both replicas on port 8000 and trusts X-Forwarded-For from it only', () => {
    const [proxyEntry] = services.filter(([, service]) =>
      Object.keys(service.depends_on ?? {}).some((name) => replicas.some(([replica]) => replica === name)),
    )
    expect(proxyEntry).toBeDefined()
    const [, proxy] = proxyEntry as [string, ComposeService & { ports?: string[] }]
    for (const [name] of replicas) expect(proxy.depends_on?.[name]?.condition).toBe('service_healthy')
    expect(proxy.ports).toContain('8000:8000')
    const caddyfile = read('deploy/Caddyfile')
    for (const [name] of replicas) expect(caddyfile).toContain(`${name}:8000`)
    const address = Object.values(proxy.networks as Record<string, { ipv4_address?: string }>)[0]
      ?.ipv4_address
    expect(address).toBeDefined()
    for (const [, service] of replicas) expect(service.environment?.TRUST_PROXY).toBe(address)
  })
})
